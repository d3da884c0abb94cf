#include "aggregator/notify/notify_options.h"

#include "common/api_token.h"
#include "common/cli_options.h"

namespace testfleet::aggregator {

void addNotifyOptions(CLI::App& app, NotifyOptions& options) {
  NotifySettings& notify = options.settings;
  app.add_option("--webhook", notify.webhooks,
                 "URL that gets a POST with the run's verdict and counts when a run completes (repeatable)")
      ->type_name("URL");
  app.add_option_function<std::string>(
         "--webhook-format",
         [&notify](const std::string& format) {
           notify.webhook_format = format == "slack" ? WebhookFormat::kSlack : WebhookFormat::kJson;
         },
         "json (the run's fields) or slack ({\"text\": a one-line summary}, for Slack and Teams incoming webhooks)")
      ->check(CLI::IsMember({"json", "slack"}))
      ->type_name("FORMAT")
      ->default_str("json");
  app.add_option("--webhook-secret-file", options.webhook_secret_file,
                 "file holding a secret that signs every webhook body: X-Testfleet-Signature: sha256=HMAC-SHA256 "
                 "(default: unsigned)");
  app.add_option("--public-url", notify.public_url,
                 "the aggregator's address as people reach it; notifications link the run's report under it");
  app.add_option("--github-token-file", options.github_token_file,
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
}

NotifySettings notifySettings(const NotifyOptions& options) {
  NotifySettings settings = options.settings;
  if (!options.webhook_secret_file.empty()) {
    settings.webhook_secret = readApiToken(options.webhook_secret_file, "--webhook-secret-file");
  }
  if (!options.github_token_file.empty()) {
    settings.github_token = readApiToken(options.github_token_file, "--github-token-file");
  }
  return settings;
}

RunNotifierPtr makeRunNotifier(const NotifySettings& settings, ResultStore& store, AggregatorMetrics& metrics) {
  if (!settings.any()) return nullptr;
  return std::make_unique<HttpRunNotifier>(settings, store, metrics);
}

}  // namespace testfleet::aggregator
