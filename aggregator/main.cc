// testfleet-aggregator: ingests results into SQLite and serves runs, reports and metrics. Wiring only.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <iostream>

#include "aggregator/blobs/blob_store.h"
#include "aggregator/http/api_server.h"
#include "aggregator/ingest.h"
#include "aggregator/metrics.h"
#include "aggregator/storage/retrying_result_store.h"
#include "aggregator/storage/sqlite_result_store.h"
#include "common/api_token.h"
#include "common/config.h"
#include "common/log.h"
#include "common/signal_watcher.h"

using namespace testfleet;

int main(int argc, char** argv) {
  CLI::App app{"testfleet-aggregator — stores results, tracks runs, serves reports and metrics"};
  addYamlConfig(app);
  std::string brokers = "127.0.0.1:19092", prefix = "testfleet", db = "testfleet.db", host = "127.0.0.1";
  std::string log_level = "info", blobs, api_token_file;
  double max_blob_mib = 256, max_blobs_gib = 20, min_free_gib = 1;
  int port = 8480;
  aggregator::ServerLimits limits;
  app.add_option("--brokers", brokers, "Kafka bootstrap servers")->envname("TESTFLEET_BROKERS")->capture_default_str();
  app.add_option("--topic-prefix", prefix, "prefix of the topic names")
      ->envname("TESTFLEET_TOPIC_PREFIX")
      ->capture_default_str();
  app.add_option("--db", db, "SQLite database file")->envname("TESTFLEET_DB")->capture_default_str();
  app.add_option("--listen", host, "HTTP address")->capture_default_str();
  app.add_option("--port", port, "HTTP port (0: any free port, printed at start)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--blobs", blobs, "folder for uploaded bundles (default: next to the database, <db>.blobs)")
      ->envname("TESTFLEET_BLOBS");
  app.add_option("--max-blob-mib", max_blob_mib, "largest bundle accepted, in MiB")
      ->check(CLI::Range(1.0, 16384.0))
      ->capture_default_str();
  app.add_option("--max-blobs-gib", max_blobs_gib,
                 "all bundles together, in GiB; past it the least recently used are removed (never one used within "
                 "the last hour)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--min-free-gib", min_free_gib,
                 "free space that uploads never take from the blob folder's disk: the database's room, in GiB")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--api-token-file", api_token_file,
                 "file holding a token that writes (uploads) must carry as `Authorization: Bearer TOKEN`; reads "
                 "stay open (default: no token, anyone may upload)")
      ->envname("TESTFLEET_API_TOKEN_FILE");
  app.add_option("--http-max-connections", limits.max_connections,
                 "connections served at once (one thread each); more wait in the listen backlog")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::string api_token;
  try {
    initLogging("aggregator", log_level);
    if (!api_token_file.empty()) api_token = readApiToken(api_token_file);
  } catch (const std::exception& e) {
    std::cerr << "testfleet-aggregator: " << e.what() << "\n";
    return 2;
  }

  std::atomic<bool> stop{false};
  SignalWatcher signals([&](int) { stop = true; });
  try {
    aggregator::SqliteResultStore database(db);
    aggregator::RetryingResultStore store(database, stop, std::chrono::seconds(5));
    aggregator::AggregatorMetrics metrics;
    aggregator::BlobStore blob_store({blobs.empty() ? db + ".blobs" : blobs,
                                      static_cast<uint64_t>(max_blob_mib * (1 << 20)),
                                      static_cast<uint64_t>(max_blobs_gib * (1 << 30)),
                                      static_cast<uint64_t>(min_free_gib * (1 << 30))},
                                     std::make_unique<aggregator::FilesystemDiskSpace>());
    aggregator::ApiServer api(store, metrics,
                              {limits, &blob_store, api_token, [&store] { return store.notReadyReason(); }});
    int bound = api.start(host, port);
    spdlog::info("HTTP API on http://{}:{} (database {}; writes {})", host, bound, db,
                 api_token.empty() ? "open to anyone: no --api-token-file" : "need the --api-token-file token");
    std::cout << "listening on http://" << host << ":" << bound << std::endl;
    aggregator::IngestSettings ingest_settings{{brokers, "testfleet-aggregator"}, kafka::Topics::withPrefix(prefix)};
    aggregator::Ingest ingest(ingest_settings, store, metrics);
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
