// testfleet-worker: joins the worker group and runs jobs in sandboxes. Wiring only; the work is in worker_core.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <sstream>
#include <thread>
#include <vector>

#include "common/config.h"
#include "common/duration.h"
#include "common/log.h"
#include "common/result_parts.h"
#include "common/signal_watcher.h"
#include "worker/bundle_cache.h"
#include "worker/job_loop.h"
#include "worker/transactional_result_sink.h"
#include "worker/job_runner.h"
#include "worker/local_run.h"
#include "worker/http/status_server.h"
#include "worker/metered_job_executor.h"
#include "worker/sandbox/bubblewrap_sandbox.h"
#include "worker/sandbox/fault_injecting_sandbox.h"
#include "worker/sandbox/unsandboxed_runner.h"
#include "worker/valid_utf8_job_executor.h"

using namespace testfleet;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
  CLI::App app{"testfleet-worker — takes test jobs from Kafka and runs each in a fresh sandbox"};
  addYamlConfig(app);
  worker::JobLoopSettings loop;
  worker::JobRunnerSettings runner;
  std::filesystem::path shared_cache;
  std::string brokers = "127.0.0.1:19092", prefix = "testfleet", grace = "30s", log_level = "info";
  char host[256] = "worker";
  ::gethostname(host, sizeof host - 1);
  loop.worker_id = host;
  bool unsandboxed = false;
  std::string cgroup_mode = "auto", memory = "2Gi", max_file = "1Gi", flood = "256Mi", workspace = "1Gi",
              artifacts = "4Mi", result_record = "900Ki";
  fs::path bwrap = "/usr/bin/bwrap", slirp4netns = "/usr/bin/slirp4netns";
  uid_t bw_uid = 2000000000;
  bool no_seccomp = false;
  double cpus = 1.0;
  fs::path stage_runner = fs::read_symlink("/proc/self/exe").parent_path() / "testfleet-stage-runner";
  app.add_option("--brokers", brokers, "Kafka bootstrap servers")->envname("TESTFLEET_BROKERS")->capture_default_str();
  app.add_option("--topic-prefix", prefix, "prefix of the topic names")
      ->envname("TESTFLEET_TOPIC_PREFIX")
      ->capture_default_str();
  app.add_option("--group", loop.group_id, "consumer group of the workers")->capture_default_str();
  app.add_option("--id", loop.worker_id,
                 "stable id of this worker (its transactional id derives from it; a restart with the same id "
                 "fences the previous instance)")
      ->envname("TESTFLEET_WORKER_ID")
      ->capture_default_str();
  app.add_option("--slots", loop.slots, "jobs run at once")->check(CLI::Range(1, 256))->capture_default_str();
  app.add_option("--work-dir", runner.work_root, "where job workspaces are made")->capture_default_str();
  app.add_option("--grace", grace, "on SIGTERM, how long running jobs may finish")->capture_default_str();
  app.add_option("--stage-runner", stage_runner, "path of testfleet-stage-runner")->capture_default_str();
  app.add_flag("--unsandboxed", unsandboxed,
               "run tests WITHOUT isolation (only where namespaces are unavailable; recorded in every result)");
  app.add_option("--cgroups", cgroup_mode, "auto|v2|v1|off: how per-job limits are enforced")
      ->check(CLI::IsMember({"auto", "v2", "v1", "off"}))
      ->capture_default_str();
  app.add_option("--memory", memory, "default memory limit per job (no swap)")->capture_default_str();
  app.add_option("--pids", runner.defaults.max_pids, "default process limit per job")->capture_default_str();
  app.add_option("--cpus", cpus, "default CPU limit per job, in cores")->check(CLI::Range(0.01, 1024.0))
      ->capture_default_str();
  std::string max_memory = "8Gi", max_timeout = "1h", aggregator = "http://127.0.0.1:8480";
  double max_cpus = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::string> bundle_origins;
  app.add_option("--max-memory", max_memory, "the most memory a job may ask for (more is lowered to this, noted)")
      ->capture_default_str();
  app.add_option("--max-cpus", max_cpus, "the most CPU a job may ask for, in cores")->check(CLI::Range(0.01, 1024.0))
      ->capture_default_str();
  app.add_option("--max-pids", runner.ceilings.max_pids, "the most processes a job may ask for")
      ->check(CLI::Range(16u, 4194304u))
      ->capture_default_str();
  app.add_option("--max-timeout", max_timeout, "the longest timeout a job may ask for")->capture_default_str();
  app.add_option("--max-reruns", runner.ceilings.reruns, "the most reruns of a failed job (flaky detection)")
      ->check(CLI::Range(0u, 100u))
      ->capture_default_str();
  app.add_option("--sandbox-uid", bw_uid,
                 "run as root: jobs run as host uids from this one up, one per slot (a range no account or file uses)")
      ->check(CLI::Range(1000u, 4000000000u))
      ->capture_default_str();
  app.add_option("--slirp4netns", slirp4netns, "path of slirp4netns, the network of network: true jobs")
      ->capture_default_str();
  app.add_option("--aggregator", aggregator, "the aggregator's URL as this worker reaches it: bundles come from here")
      ->envname("TESTFLEET_AGGREGATOR")
      ->capture_default_str();
  app.add_option("--allow-bundle-origin", bundle_origins,
                 "also fetch bundles from this origin (scheme://host[:port]); repeatable");
  app.add_option("--workspace-size", workspace, "size of each job's /work (a tmpfs; counts against its memory)")
      ->capture_default_str();
  app.add_option("--artifact-bytes", artifacts, "all of a job's artifacts together (they travel in its result)")
      ->capture_default_str();
  app.add_option("--result-record-bytes", result_record,
                 "largest results-topic record; a bigger result travels in several (under the broker's "
                 "message.max.bytes, ~1Mi by default)")
      ->capture_default_str();
  app.add_option("--max-file-size", max_file, "largest single file a job may write (RLIMIT_FSIZE)")
      ->capture_default_str();
  app.add_option("--output-flood-limit", flood, "output (stdout + stderr) past this kills the job")
      ->capture_default_str();
  app.add_option("--bwrap", bwrap, "path of the bubblewrap binary")->capture_default_str();
  app.add_flag("--no-seccomp", no_seccomp, "do not apply the seccomp filter (diagnosis only; weakens the sandbox)");
  app.add_flag("--keep-workspaces", runner.keep_workspaces, "keep job folders after the job (debugging)");
  app.add_option("--shared-cache", shared_cache,
                 "host folder every job sees read-only at /cache ($TESTFLEET_CACHE): prepared dependencies "
                 "(Go modules under go/mod, wheels, npm tarballs) for offline setup")
      ->check(CLI::ExistingDirectory)
      ->envname("TESTFLEET_SHARED_CACHE");
  double bundle_cache_mib = 4096;
  app.add_option("--bundle-cache-mib", bundle_cache_mib, "unpacked bundles kept, in MiB (least recently used go first)")
      ->check(CLI::Range(1.0, 1048576.0))
      ->capture_default_str();
  app.add_flag("--allow-file-bundles", runner.allow_file_bundles,
               "let jobs name bundles by file:// URL (a folder shared with the producer); off: http(s) only");
  std::string retry_delays = "10s,60s,5m";
  double fault_probability = 0;
  app.add_option("--max-attempts", loop.retry.max_attempts,
                 "attempts of a job whose sandbox or workspace failed (ERROR), before a final ERROR")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--retry-in-place", loop.retry.in_place, "of those, extra tries on the same worker per delivery")
      ->capture_default_str();
  app.add_option("--retry-delays", retry_delays,
                 "delay of each retry topic (" + std::to_string(kafka::Topics::kRetrySteps) + ", comma-separated)")
      ->capture_default_str();
  app.add_option("--inject-sandbox-faults", fault_probability,
                 "fail this fraction of sandbox set-ups on purpose (chaos testing of retries)")
      ->check(CLI::Range(0.0, 1.0));
  std::string run_suite, run_jobs, http_address;
  app.add_option("--http", http_address,
                 "serve /healthz, /readyz and /metrics on HOST:PORT (port 0: any free port); off when empty");
  app.add_option("--run-suite", run_suite,
                 "run this suite's jobs here, one after another, in the same sandbox, without Kafka; print each "
                 "result as a JSON line")
      ->check(CLI::ExistingFile);
  app.add_option("--run-jobs", run_jobs,
                 "run raw Job records (protobuf JSON, one a line) here as if they came from Kafka; print each result")
      ->check(CLI::ExistingFile);
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    initLogging("worker", log_level);
  } catch (const std::exception& e) {
    std::cerr << "testfleet-worker: " << e.what() << "\n";
    return 2;
  }
  auto grace_ms = parseDuration(grace);
  if (!grace_ms) {
    std::cerr << "testfleet-worker: --grace '" << grace << "' is not a duration such as 30s\n";
    return 2;
  }
  loop.grace = *grace_ms;
  auto memory_bytes = parseBytes(memory);
  if (!memory_bytes || *memory_bytes < (16u << 20)) {
    std::cerr << "testfleet-worker: --memory '" << memory << "' is not a size of at least 16Mi such as 2Gi\n";
    return 2;
  }
  runner.defaults.memory_bytes = *memory_bytes;
  auto max_memory_bytes = parseBytes(max_memory);
  auto max_timeout_ms = parseDuration(max_timeout);
  if (!max_memory_bytes || *max_memory_bytes < *memory_bytes || !max_timeout_ms || max_timeout_ms->count() <= 0 ||
      max_timeout_ms->count() > 0xffffffffLL || max_cpus < cpus || runner.ceilings.max_pids < runner.defaults.max_pids) {
    std::cerr << "testfleet-worker: --max-memory, --max-timeout, --max-cpus and --max-pids must be sizes, durations "
                 "and numbers no smaller than the defaults (--memory, --cpus, --pids), the timeout under 49 days\n";
    return 2;
  }
  runner.ceilings.memory_bytes = *max_memory_bytes;
  runner.ceilings.timeout = *max_timeout_ms;
  runner.ceilings.cpu_millis = static_cast<uint32_t>(max_cpus * 1000);
  loop.max_reruns = runner.ceilings.reruns;
  for (const auto& url : [&] {
         auto all = bundle_origins;
         all.push_back(aggregator);
         return all;
       }()) {
    std::string origin = worker::urlOrigin(url);
    if (origin.empty()) {
      std::cerr << "testfleet-worker: '" << url << "' is not an http(s) URL such as http://aggregator:8480\n";
      return 2;
    }
    runner.bundle_origins.push_back(origin);
  }
  loop.retry.delays.clear();
  {
    std::stringstream parts(retry_delays);
    std::string part;
    while (std::getline(parts, part, ',')) {
      auto d = parseDuration(part);
      if (!d) {
        std::cerr << "testfleet-worker: --retry-delays: '" << part << "' is not a duration such as 10s\n";
        return 2;
      }
      loop.retry.delays.push_back(*d);
    }
    if (loop.retry.delays.size() != static_cast<size_t>(kafka::Topics::kRetrySteps)) {
      std::cerr << "testfleet-worker: --retry-delays needs " << kafka::Topics::kRetrySteps << " delays\n";
      return 2;
    }
  }
  auto max_file_bytes = parseBytes(max_file);
  auto flood_bytes = parseBytes(flood);
  auto workspace_bytes = parseBytes(workspace);
  auto artifact_bytes = parseBytes(artifacts);
  if (!max_file_bytes || !flood_bytes || !workspace_bytes || !artifact_bytes || *artifact_bytes > (6u << 20)) {
    std::cerr << "testfleet-worker: --workspace-size, --max-file-size, --output-flood-limit and --artifact-bytes "
                 "take sizes such as 1Gi or 64Mi (artifacts at most 6Mi: they travel in the job's result)\n";
    return 2;
  }
  auto result_record_bytes = parseBytes(result_record);
  if (!result_record_bytes || *result_record_bytes < kMinResultRecordBytes || *result_record_bytes > (8u << 20)) {
    std::cerr << "testfleet-worker: --result-record-bytes takes a size from 64Ki to 8Mi, under the broker's "
                 "message.max.bytes (such as 900Ki)\n";
    return 2;
  }
  loop.max_result_record_bytes = *result_record_bytes;
  runner.max_file_bytes = *max_file_bytes;
  runner.output_kill_bytes = *flood_bytes;
  runner.workspace_bytes = *workspace_bytes;
  runner.artifact_bytes = *artifact_bytes;
  runner.defaults.cpu_millis = static_cast<uint32_t>(cpus * 1000);
  loop.kafka = {brokers, "testfleet-worker-" + loop.worker_id};
  loop.topics = kafka::Topics::withPrefix(prefix);
  runner.worker_id = loop.worker_id;
  runner.work_root /= loop.worker_id;

  worker::StopSignals stop;
  SignalWatcher signals([&](int n) {
    stop.drain = true;
    if (n >= 2) stop.abandon = true;
  });

  std::string no_cgroups;
  const auto mode = cgroup_mode == "v2"   ? worker::CgroupMode::kV2
                    : cgroup_mode == "v1" ? worker::CgroupMode::kV1
                    : cgroup_mode == "off" ? worker::CgroupMode::kOff
                                           : worker::CgroupMode::kAuto;
  worker::CgroupDriverPtr cgroups = worker::detectCgroups(mode, no_cgroups);
  if (cgroups) {
    spdlog::info("per-job limits through {}", cgroups->describe());
  } else {
    spdlog::warn("per-job memory, pids and CPU limits are NOT enforced: {}; results say so (limits_enforced=false)",
                 no_cgroups);
  }

  std::error_code ec;
  fs::create_directories(runner.work_root, ec);
  if (ec) {
    spdlog::critical("cannot create work dir {}: {}", runner.work_root.string(), ec.message());
    return 2;
  }
  // Sandboxes (as their own uids) pass through it to their job's folder, but need not list it.
  fs::permissions(runner.work_root, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec, ec);
  worker::SandboxPtr sandbox;
  worker::BubblewrapSettings bw{bwrap, stage_runner, !no_seccomp, shared_cache, slirp4netns, runner.work_root, bw_uid,
                                static_cast<size_t>(run_suite.empty() && run_jobs.empty() ? loop.slots : 1)};
  if (no_seccomp) spdlog::warn("the seccomp filter is OFF (--no-seccomp)");
  if (unsandboxed) {
    spdlog::critical("RUNNING TESTS WITHOUT A SANDBOX (--unsandboxed): tests can read and change this machine; "
                     "every result is marked unsandboxed");
    sandbox = std::make_unique<worker::UnsandboxedRunner>(stage_runner);
  } else if (std::string problem = worker::BubblewrapSandbox::probe(bw); !problem.empty()) {
    spdlog::critical("refusing to start: {}", problem);
    return 2;
  } else {
    auto bubblewrap = std::make_unique<worker::BubblewrapSandbox>(bw, cgroups.get());
    if (::geteuid() == 0) {
      spdlog::info("jobs run as host uids {}..{}, never as root", bw.sandbox_uid, bw.sandbox_uid + bw.sandbox_uids - 1);
    } else {
      spdlog::info("jobs run as this worker's own uid {} (run the worker as root to give each slot a uid of its own)",
                   ::geteuid());
    }
    if (!bubblewrap->networkProblem().empty()) {
      spdlog::warn("network: true jobs will fail here: {}", bubblewrap->networkProblem());
    }
    sandbox = std::move(bubblewrap);
  }
  std::unique_ptr<worker::Sandbox> faulty;
  if (fault_probability > 0) {
    spdlog::warn("injecting sandbox set-up faults into {:.0f}% of jobs (--inject-sandbox-faults)",
                 fault_probability * 100);
    faulty = std::make_unique<worker::FaultInjectingSandbox>(*sandbox, fault_probability);
  }
  runner.bundle_cache_bytes = static_cast<uint64_t>(bundle_cache_mib * (1 << 20));
  if (!run_suite.empty()) runner.allow_file_bundles = true;  // the local run writes its bundles to files
  worker::JobRunner job_runner(runner, faulty ? *faulty : *sandbox);
  worker::ValidUtf8JobExecutor valid_utf8(job_runner);
  if (!run_suite.empty()) return worker::runSuiteLocally(run_suite, valid_utf8, std::cout);
  if (!run_jobs.empty()) return worker::runJobsLocally(run_jobs, valid_utf8, std::cout);
  worker::StatusServer status({loop.worker_id, unsandboxed ? "unsandboxed" : "bubblewrap", !unsandboxed && !no_seccomp,
                               cgroups != nullptr, cgroups ? cgroups->describe() : "not enforced: " + no_cgroups,
                               loop.slots});
  worker::MeteredJobExecutor metered(valid_utf8, status);
  if (!http_address.empty()) {
    auto colon = http_address.rfind(':');
    try {
      int port = status.start(http_address.substr(0, colon), std::stoi(http_address.substr(colon + 1)));
      spdlog::info("status on http://{}:{}/readyz", http_address.substr(0, colon), port);
    } catch (const std::exception& e) {
      spdlog::critical("--http {}: {}", http_address, e.what());
      return 2;
    }
  }
  try {
    kafka::ensureTopics(loop.kafka, loop.topics.specs());
    worker::KafkaRecordConsumer consumer(loop.consumer());
    worker::TransactionalResultSink sink(loop.kafka, "testfleet-worker-" + loop.worker_id, consumer.group());
    worker::BufferedJobSource source(consumer, loop.source());
    worker::JobLoop job_loop(loop, source, sink, metered);
    spdlog::info("worker {} ready: {} slot(s), group {}, topic {}", loop.worker_id, loop.slots, loop.group_id,
                 loop.topics.jobs);
    return job_loop.run(stop);
  } catch (const kafka::Error& e) {
    spdlog::critical("Kafka: {}", e.what());
    return 3;
  }
}
