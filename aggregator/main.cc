// testfleet-aggregator: ingests results into SQLite and serves runs, reports and metrics. Wiring only.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <atomic>
#include <iostream>

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
#include "common/log.h"
#include "common/run_cancels.h"
#include "common/signal_watcher.h"

using namespace testfleet;

int main(int argc, char** argv) {
  CLI::App app{"testfleet-aggregator — stores results, tracks runs, serves reports and metrics"};
  addYamlConfig(app);
  addVersionFlag(app, "testfleet-aggregator");
  ClusterOptions cluster;
  std::string db = "testfleet.db", host = "127.0.0.1", api_token_file;
  int port = 8480;
  aggregator::ServerLimits limits;
  aggregator::BlobSettings blobs;
  aggregator::NotifyOptions notify_options;
  addClusterOptions(app, cluster);
  app.add_option("--db", db, "SQLite database file")->envname("TESTFLEET_DB")->capture_default_str();
  app.add_option("--listen", host, "HTTP address")->capture_default_str();
  app.add_option("--port", port, "HTTP port (0: any free port, printed at start)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--blobs", blobs.dir, "folder for uploaded bundles (default: next to the database, <db>.blobs)")
      ->envname("TESTFLEET_BLOBS");
  addScaledOption(app, "--max-blob-mib", blobs.max_bytes, 1 << 20, "largest bundle accepted, in MiB",
                  CLI::Range(1.0, 16384.0));
  addScaledOption(app, "--max-blobs-gib", blobs.max_total_bytes, 1 << 30,
                  "all bundles together, in GiB; past it the least recently used are removed (never one used within "
                  "the last hour)",
                  CLI::PositiveNumber);
  addScaledOption(app, "--min-free-gib", blobs.keep_free_bytes, 1 << 30,
                  "free space that uploads never take from the blob folder's disk: the database's room, in GiB",
                  CLI::NonNegativeNumber);
  app.add_option("--api-token-file", api_token_file,
                 "file holding a token that writes (uploads) must carry as `Authorization: Bearer TOKEN`; reads "
                 "stay open (default: no token, anyone may upload)")
      ->envname("TESTFLEET_API_TOKEN_FILE");
  app.add_option("--http-max-connections", limits.max_connections,
                 "connections served at once (one thread each); more wait in the listen backlog")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  addNotifyOptions(app, notify_options);
  app.footer(
      "Exit codes: 0 stopped (SIGTERM or SIGINT); 2 bad command line or --config file (a bad value, an unknown key, "
      "broken YAML) or an unreadable token or secret file (--*-file); 3 the database, the HTTP port or Kafka failed.");
  if (auto exit_code = parseCommandLine(app, argc, argv)) return *exit_code;
  std::string api_token;
  try {
    initLogging("aggregator", cluster.log_level, cluster.log_format);
    if (!api_token_file.empty()) api_token = readApiToken(api_token_file);
    notify_options.settings = aggregator::notifySettings(notify_options);
  } catch (const std::exception& e) {
    std::cerr << "testfleet-aggregator: " << e.what() << "\n";
    return 2;
  }
  if (blobs.dir.empty()) blobs.dir = db + ".blobs";

  std::atomic<bool> stop{false};
  SignalWatcher signals([&](int) { stop = true; });
  try {
    aggregator::SqliteResultStore database(db);
    aggregator::RetryingResultStore store(database, stop, std::chrono::seconds(5));
    aggregator::AggregatorMetrics metrics;
    aggregator::BlobStore blob_store(blobs, std::make_unique<aggregator::FilesystemDiskSpace>());
    const kafka::ClientSettings kafka{cluster.brokers, "testfleet-aggregator", cluster.connect_timeout};
    const kafka::Topics topics = kafka::Topics::withPrefix(cluster.topic_prefix);
    // POST /v1/runs/{id}/cancel writes the cancel to the control topic, as `testfleet cancel` does.
    auto cancel_run = [&kafka, &topics](const std::string& run_id) {
      try {
        sendRunCancel(kafka, topics.control, run_id, "the aggregator's API");
        return std::string();
      } catch (const kafka::Error& e) {
        return std::string(e.what());
      }
    };
    aggregator::ApiServer api(
        store, metrics, {limits, &blob_store, api_token, [&store] { return store.notReadyReason(); }, cancel_run});
    int bound = api.start(host, port);
    spdlog::info("HTTP API on http://{}:{} (database {}; writes {})", host, bound, db,
                 api_token.empty() ? "open to anyone: no --api-token-file" : "need the --api-token-file token");
    std::cout << "listening on http://" << host << ":" << bound << std::endl;
    aggregator::IngestSettings ingest_settings{kafka, topics};
    aggregator::RunNotifierPtr notifier = aggregator::makeRunNotifier(notify_options.settings, store, metrics);
    aggregator::Ingest ingest(ingest_settings, store, metrics, notifier.get());
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
