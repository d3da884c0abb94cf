// testfleet-aggregator: ingests results into SQLite and serves runs, reports and metrics. Wiring only.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <atomic>
#include <iostream>

#include "aggregator/aggregator_options.h"
#include "aggregator/blobs/blob_store.h"
#include "aggregator/http/api_server.h"
#include "aggregator/ingest.h"
#include "aggregator/metrics.h"
#include "aggregator/notify/notify_options.h"
#include "aggregator/storage/retrying_result_store.h"
#include "aggregator/storage/sqlite_result_store.h"
#include "common/api_token.h"
#include "common/cli_options.h"
#include "common/config.h"
#include "common/kafka/client_settings.h"
#include "common/log.h"
#include "common/run_cancels.h"
#include "common/signal_watcher.h"

using namespace testfleet;

int main(int argc, char** argv) {
  CLI::App app{"testfleet-aggregator — stores results, tracks runs, serves reports and metrics"};
  addYamlConfig(app);
  addVersionFlag(app, "testfleet-aggregator");
  aggregator::AggregatorOptions o;
  addAggregatorOptions(app, o);
  if (auto exit_code = parseCommandLine(app, argc, argv)) return *exit_code;
  std::string api_token;
  kafka::ClientSettings kafka;
  try {
    kafka = kafka::clientSettings(o.cluster, "testfleet-aggregator");
    initLogging("aggregator", o.cluster.log_level, o.cluster.log_format);
    if (!o.api_token_file.empty()) api_token = readApiToken(o.api_token_file);
    o.notify.settings = aggregator::notifySettings(o.notify);
  } catch (const std::exception& e) {
    std::cerr << "testfleet-aggregator: " << e.what() << "\n";
    return 2;
  }
  if (o.blobs.dir.empty()) o.blobs.dir = o.db + ".blobs";

  std::atomic<bool> stop{false};
  SignalWatcher signals([&](int) { stop = true; });
  try {
    aggregator::SqliteResultStore database(o.db);
    aggregator::RetryingResultStore store(database, stop, std::chrono::seconds(5));
    aggregator::AggregatorMetrics metrics;
    aggregator::BlobStore blob_store(o.blobs, std::make_unique<aggregator::FilesystemDiskSpace>());
    const kafka::Topics topics = kafka::Topics::withPrefix(o.cluster.topic_prefix);
    // POST /v1/runs/{id}/cancel writes the cancel to the control topic, as `testfleet cancel` does.
    auto cancel_run = [&kafka, &topics](const std::string& run_id) {
      try {
        sendRunCancel(kafka, topics.control, run_id, "the aggregator's API");
        return std::string();
      } catch (const kafka::Error& e) {
        return std::string(e.what());
      }
    };
    // Ready when results can be stored and the results reader has a broker and its partitions.
    kafka::ClientHealth reader_health;
    auto not_ready_reason = [&store, &reader_health] {
      if (std::string reason = store.notReadyReason(); !reason.empty()) return reason;
      return kafka::notReadyReason(reader_health.last(), std::chrono::steady_clock::now(), {.needs_group = false});
    };
    aggregator::RunChanges changes;  // stored batches wake the progress long-polls of `submit --wait`
    aggregator::ApiServer api(store, metrics,
                              {o.limits, &blob_store, api_token, not_ready_reason, cancel_run, &changes});
    int bound = api.start(o.host, o.port);
    spdlog::info("HTTP API on http://{}:{} (database {}; writes {})", o.host, bound, o.db,
                 api_token.empty() ? "open to anyone: no --api-token-file" : "need the --api-token-file token");
    std::cout << "listening on http://" << o.host << ":" << bound << std::endl;
    aggregator::IngestSettings ingest_settings{kafka, topics, &reader_health};
    aggregator::RunNotifierPtr notifier = aggregator::makeRunNotifier(o.notify.settings, store, metrics);
    aggregator::Ingest ingest(ingest_settings, store, metrics, notifier.get(), &changes);
    ingest.run(stop);
    spdlog::info("stopping");
    api.stop();
  } catch (const std::exception& e) {
    if (stop) {  // stopped while results could not be stored: they are read again at the next start
      spdlog::warn("stopped with the last batch not stored ({}); it is read again at the next start", e.what());
      return 0;
    }
    spdlog::critical("{}", e.what());
    return 3;
  }
  return 0;
}
