// testfleet-aggregator: ingests results into SQLite and serves runs, reports and metrics. Wiring only.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <atomic>
#include <iostream>

#include "aggregator/blobs/blob_store.h"
#include "aggregator/http/api_server.h"
#include "aggregator/ingest.h"
#include "aggregator/metrics.h"
#include "aggregator/notify/http_run_notifier.h"
#include "aggregator/storage/retrying_result_store.h"
#include "aggregator/storage/sqlite_result_store.h"
#include "common/api_token.h"
#include "common/cli_options.h"
#include "common/config.h"
#include "common/log.h"
#include "common/signal_watcher.h"

using namespace testfleet;

int main(int argc, char** argv) {
  CLI::App app{"testfleet-aggregator — stores results, tracks runs, serves reports and metrics"};
  addYamlConfig(app);
  addVersionFlag(app, "testfleet-aggregator");
  ClusterOptions cluster;
  std::string db = "testfleet.db", host = "127.0.0.1", api_token_file, webhook_secret_file, github_token_file;
  int port = 8480;
  aggregator::ServerLimits limits;
  aggregator::BlobSettings blobs;
  aggregator::NotifySettings notify;
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
  app.add_option("--webhook", notify.webhooks,
                 "URL that gets a POST with the run's verdict and counts when a run completes (repeatable)")
      ->type_name("URL");
  app.add_option_function<std::string>(
         "--webhook-format",
         [&notify](const std::string& format) {
           notify.webhook_format =
               format == "slack" ? aggregator::WebhookFormat::kSlack : aggregator::WebhookFormat::kJson;
         },
         "json (the run's fields) or slack ({\"text\": a one-line summary}, for Slack and Teams incoming webhooks)")
      ->check(CLI::IsMember({"json", "slack"}))
      ->type_name("FORMAT")
      ->default_str("json");
  app.add_option("--webhook-secret-file", webhook_secret_file,
                 "file holding a secret that signs every webhook body: X-Testfleet-Signature: sha256=HMAC-SHA256 "
                 "(default: unsigned)");
  app.add_option("--public-url", notify.public_url,
                 "the aggregator's address as people reach it; notifications link the run's report under it");
  app.add_option("--github-token-file", github_token_file,
                 "file holding a GitHub token; runs labelled repository=OWNER/NAME and commit=SHA get a commit "
                 "status (context testfleet) when they complete");
  app.add_option("--github-api", notify.github_api, "GitHub's API base URL (GitHub Enterprise: https://HOST/api/v3)")
      ->capture_default_str();
  app.add_option("--notify-attempts", notify.max_attempts,
                 "attempts per notification; retried after 1s, 2s, 4s, … on a 5xx, 429 or no answer")
      ->check(CLI::Range(1, 20))
      ->capture_default_str();
  addDurationOption(app, "--notify-first-retry", notify.first_retry,
                    "wait before a notification's second attempt; doubled before each later one",
                    std::chrono::milliseconds(1));
  app.footer(
      "Exit codes: 0 stopped (SIGTERM or SIGINT); 2 bad command line or --config file (a bad value, an unknown key, "
      "broken YAML) or an unreadable --api-token-file, --webhook-secret-file or --github-token-file; 3 the database, the HTTP port or Kafka failed.");
  if (auto exit_code = parseCommandLine(app, argc, argv)) return *exit_code;
  std::string api_token;
  try {
    initLogging("aggregator", cluster.log_level, cluster.log_format);
    if (!api_token_file.empty()) api_token = readApiToken(api_token_file);
    if (!webhook_secret_file.empty()) {
      notify.webhook_secret = readApiToken(webhook_secret_file, "--webhook-secret-file");
    }
    if (!github_token_file.empty()) notify.github_token = readApiToken(github_token_file, "--github-token-file");
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
    aggregator::ApiServer api(store, metrics,
                              {limits, &blob_store, api_token, [&store] { return store.notReadyReason(); }});
    int bound = api.start(host, port);
    spdlog::info("HTTP API on http://{}:{} (database {}; writes {})", host, bound, db,
                 api_token.empty() ? "open to anyone: no --api-token-file" : "need the --api-token-file token");
    std::cout << "listening on http://" << host << ":" << bound << std::endl;
    aggregator::IngestSettings ingest_settings{{cluster.brokers, "testfleet-aggregator", cluster.connect_timeout},
                                               kafka::Topics::withPrefix(cluster.topic_prefix)};
    std::unique_ptr<aggregator::HttpRunNotifier> notifier;
    if (notify.any()) {
      spdlog::info("notifications: {} webhook(s){}, GitHub commit statuses {}", notify.webhooks.size(),
                   notify.webhook_secret.empty() ? " unsigned" : " signed",
                   notify.github_token.empty() ? "off" : "to " + notify.github_api);
      notifier = std::make_unique<aggregator::HttpRunNotifier>(notify, store, metrics);
    }
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
