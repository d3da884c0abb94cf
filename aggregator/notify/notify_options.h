// The aggregator's notification options (--webhook, --webhook-format, --webhook-secret-file, --public-url,
// --github-token-file, --github-api, --notify-attempts, --notify-first-retry), bound to NotifySettings.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "aggregator/notify/http_run_notifier.h"

namespace testfleet::aggregator {

struct NotifyOptions {
  NotifySettings settings;  // everything but the secrets, which are read from their files by notifySettings
  std::string webhook_secret_file, github_token_file;
};

void addNotifyOptions(CLI::App& app, NotifyOptions& options);

// The settings with the secrets read from their files (readApiToken's rules). Throws std::invalid_argument naming
// the option and what to fix.
NotifySettings notifySettings(const NotifyOptions& options);

// An HttpRunNotifier when the settings ask for any notification, null otherwise. The store and metrics must outlive
// it.
RunNotifierPtr makeRunNotifier(const NotifySettings& settings, ResultStore& store, AggregatorMetrics& metrics);

}  // namespace testfleet::aggregator
