// testfleet-worker: joins the worker group and runs jobs in sandboxes. Wiring only: the options are declared in
// worker_options.cc, the sandbox is chosen in worker_sandbox.cc, the work is in worker_core.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <iostream>

#include "common/cli_options.h"
#include "common/config.h"
#include "common/log.h"
#include "common/run_cancels.h"
#include "common/signal_watcher.h"
#include "worker/http/status_server.h"
#include "worker/job_loop.h"
#include "worker/job_runner.h"
#include "worker/local_run.h"
#include "worker/metered_job_executor.h"
#include "worker/transactional_result_sink.h"
#include "worker/valid_utf8_job_executor.h"
#include "worker/worker_options.h"
#include "worker/worker_sandbox.h"

using namespace testfleet;

namespace {

// --http HOST:PORT; false (after saying why) when it cannot listen there.
bool startStatusServer(worker::StatusServer& status, const std::string& address) {
  if (address.empty()) return true;
  const auto colon = address.rfind(':');
  try {
    int port = status.start(address.substr(0, colon), std::stoi(address.substr(colon + 1)));
    spdlog::info("status on http://{}:{}/readyz", address.substr(0, colon), port);
    return true;
  } catch (const std::exception& e) {
    spdlog::critical("--http {}: {}", address, e.what());
    return false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"testfleet-worker — takes test jobs from Kafka and runs each in a fresh sandbox"};
  addYamlConfig(app);
  addVersionFlag(app, "testfleet-worker");
  worker::WorkerOptions options = worker::machineDefaults();
  worker::addWorkerOptions(app, options);
  if (auto exit_code = parseCommandLine(app, argc, argv)) return *exit_code;
  if (std::string problem = worker::finishWorkerOptions(options); !problem.empty()) {
    std::cerr << "testfleet-worker: " << problem << "\n";
    return 2;
  }
  initLogging("worker", options.cluster.log_level, options.cluster.log_format);

  worker::StopSignals stop;
  SignalWatcher signals([&](int n) {
    stop.drain = true;
    if (n >= 2) stop.abandon = true;
  });
  std::optional<worker::WorkerSandbox> sandbox = worker::makeWorkerSandbox(options.sandbox);
  if (!sandbox) return 2;
  worker::JobRunner job_runner(options.runner, sandbox->jobs());
  worker::ValidUtf8JobExecutor valid_utf8(job_runner);
  if (!options.local_suite.empty()) return worker::runSuiteLocally(options.local_suite, valid_utf8, std::cout);
  if (!options.local_jobs.empty()) return worker::runJobsLocally(options.local_jobs, valid_utf8, std::cout);
  worker::WorkerMetrics metrics(options.loop.slots);
  kafka::ClientHealth consumer_health;  // ready: a broker reachable and a member of the group
  options.loop.consumer_health = &consumer_health;
  worker::StatusServer status(
      sandbox->facts(options.loop.worker_id, options.loop.slots, options.sandbox), metrics, [&consumer_health] {
        return kafka::notReadyReason(consumer_health.last(), std::chrono::steady_clock::now(), {.needs_group = true});
      });
  worker::MeteredJobExecutor metered(valid_utf8, metrics);
  if (!startStatusServer(status, options.http_address)) return 2;

  // The job loop: consume, run, commit until a stop signal.
  const worker::JobLoopSettings& loop = options.loop;
  try {
    kafka::ensureTopics(loop.kafka, loop.topics.specs());
    worker::KafkaRecordConsumer consumer(loop.consumer());
    worker::TransactionalResultSink sink(loop.kafka, loop.transactional_id, consumer.group());
    worker::BufferedJobSource source(consumer, loop.source());
    RecentCancels cancels;
    ControlTopicFollower follower(loop.kafka, loop.topics.control, cancels);
    worker::JobLoop job_loop(loop, source, sink, metered, &metrics, &cancels);
    spdlog::info("worker {} ready: {} slot(s), group {}, topic {}", loop.worker_id, loop.slots, loop.group_id,
                 loop.topics.jobs);
    return job_loop.run(stop);
  } catch (const kafka::Error& e) {
    spdlog::critical("Kafka: {}", e.what());
    return 3;
  }
}
