// testfleet — the CLI a CI job runs: submit a suite (and wait for its verdict), create topics.
#include <CLI/CLI.hpp>

#include <iostream>
#include <unistd.h>

#include "common/api_token.h"
#include "common/config.h"
#include "common/duration.h"
#include "common/kafka/topics.h"
#include "common/log.h"
#include "producer/dead_letters.h"
#include "producer/submit.h"

using namespace testfleet;

namespace {
std::chrono::milliseconds durationFlag(const std::string& text, const std::string& flag) {
  auto d = parseDuration(text);
  if (!d || d->count() <= 0) throw CLI::ValidationError(flag, "'" + text + "' is not a duration such as 90s or 10m");
  return *d;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"testfleet — run a test suite on a fleet of sandboxed workers through Kafka"};
  addYamlConfig(app);
  app.require_subcommand(1);
  std::string brokers = "127.0.0.1:19092";
  std::string prefix = "testfleet";
  std::string log_level = "warn";
  app.add_option("--brokers", brokers, "Kafka bootstrap servers")->envname("TESTFLEET_BROKERS")->capture_default_str();
  app.add_option("--topic-prefix", prefix, "prefix of the topic names")
      ->envname("TESTFLEET_TOPIC_PREFIX")
      ->capture_default_str();
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error")->capture_default_str();

  producer::SubmitOptions submit;
  std::string deadline = "2h", stall = "5m";
  std::vector<std::string> labels;
  auto* sub = app.add_subcommand("submit", "submit a suite; with --wait, follow it and exit 0 (passed), 1 (tests "
                                           "failed), 2 (bad suite or usage) or 3 (infrastructure or deadline)");
  sub->add_option("suite", submit.suite_file, "suite file (YAML)")->required()->check(CLI::ExistingFile);
  sub->add_flag("--wait", submit.wait, "wait for the verdict, print the summary, exit with it");
  sub->add_option("--junit", submit.junit_file, "with --wait: write the JUnit XML report here");
  sub->add_option("--json", submit.json_file, "with --wait: write the JSON report here");
  sub->add_option("--markdown", submit.markdown_file,
                  "with --wait: append a Markdown summary to this file (e.g. $GITHUB_STEP_SUMMARY)");
  sub->add_option("--html", submit.html_file, "with --wait: write the single-file HTML report here");
  sub->add_option("--aggregator", submit.follow.aggregator_url, "aggregator base URL")
      ->envname("TESTFLEET_AGGREGATOR")
      ->capture_default_str();
  sub->add_option("--bundle-base-url", submit.bundle_base_url,
                  "the aggregator's URL as workers reach it, for bundles (default: --aggregator)")
      ->envname("TESTFLEET_BUNDLE_BASE_URL");
  std::string api_token_file;
  sub->add_option("--api-token-file", api_token_file,
                  "file holding the aggregator's API token (its --api-token-file), sent with bundle uploads")
      ->envname("TESTFLEET_API_TOKEN_FILE");
  bool no_history = false;
  sub->add_flag("--no-history", no_history, "publish jobs in suite order instead of longest-expected first");
  sub->add_option("--run-id", submit.run_id, "use this run id instead of a random one");
  sub->add_option("--label", labels, "KEY=VALUE label on the run (commit, branch, ci_url, …); repeatable");
  sub->add_option("--deadline", deadline, "give up waiting after this long (exit 3)")->capture_default_str();
  sub->add_option("--stall-timeout", stall, "give up when no job finished for this long (exit 3)")
      ->capture_default_str();

  auto* topics_cmd = app.add_subcommand("topics", "create the topics (idempotent)");

  auto* dlq = app.add_subcommand("dlq", "dead letters: records nobody could process, and why");
  dlq->require_subcommand(1);
  bool dlq_json = false;
  auto* dlq_list = dlq->add_subcommand("list", "list every dead letter (oldest first)");
  dlq_list->add_flag("--json", dlq_json, "as JSON");
  std::vector<std::string> replay_which;
  auto* dlq_replay = dlq->add_subcommand("replay", "send dead letters back where they came from (a job as a new attempt)");
  dlq_replay->add_option("which", replay_which, "OFFSET or PARTITION:OFFSET, as `dlq list` shows")->required();

  try {
    app.parse(argc, argv);
    submit.follow.deadline = durationFlag(deadline, "--deadline");
    submit.follow.stall_timeout = durationFlag(stall, "--stall-timeout");
    for (const auto& l : labels) {
      auto eq = l.find('=');
      if (eq == std::string::npos || eq == 0) throw CLI::ValidationError("--label", "'" + l + "' is not KEY=VALUE");
      submit.labels[l.substr(0, eq)] = l.substr(eq + 1);
    }
    if (!api_token_file.empty()) submit.api_token = readApiToken(api_token_file);
    initLogging("testfleet", log_level);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : producer::kUsageError;
  } catch (const std::invalid_argument& e) {
    std::cerr << "testfleet: " << e.what() << "\n";
    return producer::kUsageError;
  }

  kafka::ClientSettings kafka{brokers, "testfleet-cli"};
  if (*topics_cmd) {
    try {
      kafka::ensureTopics(kafka, kafka::Topics::withPrefix(prefix).specs());
      std::cout << "topics with prefix '" << prefix << "' exist on " << brokers << "\n";
      return 0;
    } catch (const kafka::Error& e) {
      std::cerr << "testfleet: " << e.what() << "\n";
      return producer::kInfrastructure;
    }
  }
  if (*dlq) {
    try {
      auto topics = kafka::Topics::withPrefix(prefix);
      if (*dlq_list) {
        producer::printDeadLetters(producer::readDeadLetters(kafka, topics), dlq_json, std::cout);
        return 0;
      }
      int n = producer::replayDeadLetters(kafka, topics, replay_which, std::cout, std::cerr);
      return n == static_cast<int>(replay_which.size()) ? 0 : producer::kUsageError;
    } catch (const kafka::Error& e) {
      std::cerr << "testfleet: " << e.what() << "\n";
      return producer::kInfrastructure;
    }
  }
  submit.kafka = kafka;
  submit.use_history = !no_history;
  submit.topic_prefix = prefix;
  submit.follow.live_progress = isatty(STDERR_FILENO);
  return producer::runSubmit(submit);
}
