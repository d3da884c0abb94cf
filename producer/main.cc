// testfleet — the CLI a CI job runs: submit a suite (and wait for its verdict), cancel a run, create topics, read
// dead letters.
// Wiring only: the commands and their options are declared in producer_commands.cc.
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>

#include "common/api_token.h"
#include "common/cli_options.h"
#include "common/config.h"
#include "common/kafka/client_settings.h"
#include "common/kafka/topics.h"
#include "common/log.h"
#include "common/run_cancels.h"
#include "common/signal_watcher.h"
#include "producer/ci_labels.h"
#include "producer/dead_letters.h"
#include "producer/interrupted_wait.h"
#include "producer/producer_commands.h"
#include "producer/submit.h"

using namespace testfleet;

namespace {

int createTopics(const kafka::ClientSettings& kafka, const ClusterOptions& cluster) {
  kafka::ensureTopics(kafka, kafka::Topics::withPrefix(cluster.topic_prefix).specs());
  std::cout << "topics with prefix '" << cluster.topic_prefix << "' exist on " << cluster.brokers << "\n";
  return 0;
}

int deadLetters(const kafka::ClientSettings& kafka, const producer::ProducerCommands& c) {
  auto topics = kafka::Topics::withPrefix(c.cluster.topic_prefix);
  if (*c.dlq_list_command) {
    producer::printDeadLetters(producer::readDeadLetters(kafka, topics), c.dlq_json, std::cout);
    return 0;
  }
  int n = producer::replayDeadLetters(kafka, topics, c.replay_which, std::cout, std::cerr);
  return n == static_cast<int>(c.replay_which.size()) ? 0 : producer::kUsageError;
}

int cancelRun(const kafka::ClientSettings& kafka, const ClusterOptions& cluster, const std::string& run_id) {
  const auto topics = kafka::Topics::withPrefix(cluster.topic_prefix);
  kafka::ensureTopics(kafka, topics.specs());
  sendRunCancel(kafka, topics.control, run_id, "testfleet cancel");
  std::cout << "run " << run_id << " cancelled\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"testfleet — run a test suite on a fleet of sandboxed workers through Kafka"};
  addYamlConfig(app);
  addVersionFlag(app, "testfleet");
  producer::ProducerCommands commands;
  producer::addProducerCommands(app, commands);
  if (auto exit_code = parseCommandLine(app, argc, argv)) return *exit_code;
  producer::SubmitOptions& submit = commands.submit;
  kafka::ClientSettings kafka;
  try {
    kafka = kafka::clientSettings(commands.cluster, "testfleet-cli");
  } catch (const std::invalid_argument& e) {
    std::cerr << "testfleet: " << e.what() << "\n";
    return producer::kUsageError;
  }
  // Before any other thread starts, so that every thread leaves SIGINT and SIGTERM to the watcher.
  std::optional<producer::InterruptedWait> interrupted;
  std::optional<SignalWatcher> signals;
  if (*commands.submit_command && submit.wait) {
    interrupted.emplace(kafka, kafka::Topics::withPrefix(commands.cluster.topic_prefix).control,
                        std::chrono::seconds(submit.cancel_grace_s));
    signals.emplace([&](int n) { interrupted->interrupted(n); });
    submit.on_published = [&](const std::string& run_id) { interrupted->published(run_id); };
  }
  try {
    if (!commands.api_token_file.empty()) submit.api_token = readApiToken(commands.api_token_file);
    initLogging("testfleet", commands.cluster.log_level, commands.cluster.log_format);
  } catch (const std::invalid_argument& e) {
    std::cerr << "testfleet: " << e.what() << "\n";
    return producer::kUsageError;
  }

  if (*commands.topics_command || *commands.dlq_command || *commands.cancel_command) {
    try {
      if (*commands.cancel_command) return cancelRun(kafka, commands.cluster, commands.cancel_run_id);
      return *commands.topics_command ? createTopics(kafka, commands.cluster) : deadLetters(kafka, commands);
    } catch (const kafka::Error& e) {
      std::cerr << "testfleet: " << e.what() << "\n";
      return producer::kInfrastructure;
    }
  }
  submit.kafka = kafka;
  submit.topic_prefix = commands.cluster.topic_prefix;
  submit.follow.live_progress = isatty(STDERR_FILENO);
  // A --label of the user's wins over what the CI system's environment says.
  for (auto& [key, value] : producer::ciLabels(std::getenv)) submit.labels.try_emplace(key, value);
  submit.github_annotations = producer::onGitHubActions(std::getenv);
  return producer::runSubmit(submit);
}
