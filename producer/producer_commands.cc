#include "producer/producer_commands.h"

#include "producer/run_link.h"

namespace testfleet::producer {
namespace {

void addLabelOption(CLI::App& command, std::map<std::string, std::string>& labels) {
  CLI::Validator key_value(
      [](std::string& label) -> std::string {
        const auto eq = label.find('=');
        return eq == std::string::npos || eq == 0 ? "'" + label + "' is not KEY=VALUE" : "";
      },
      "");
  command
      .add_option_function<std::vector<std::string>>(
          "--label",
          [&labels](const std::vector<std::string>& all) {
            for (const auto& label : all) labels[label.substr(0, label.find('='))] = label.substr(label.find('=') + 1);
          },
          "KEY=VALUE label on the run (commit, branch, ci_url, …); repeatable")
      ->type_name("KEY=VALUE")
      ->check(key_value);
}

void addSubmitCommand(CLI::App& app, ProducerCommands& c) {
  SubmitOptions& submit = c.submit;
  auto* sub = app.add_subcommand("submit",
                                 "submit a suite; with --wait, follow it and exit 0 (passed), 1 (tests "
                                 "failed), 2 (bad suite or usage), 3 (infrastructure or deadline) or 4 "
                                 "(cancelled; SIGINT or SIGTERM cancels the run)");
  c.submit_command = sub;
  sub->add_option("suite", submit.suite_file, "suite file (YAML)")->required()->check(CLI::ExistingFile);
  sub->add_flag("--wait", submit.wait, "wait for the verdict, print the summary, exit with it");
  sub->add_option("--junit", submit.junit_file, "with --wait: write the JUnit XML report here");
  sub->add_option("--json", submit.json_file, "with --wait: write the JSON report here");
  sub->add_option("--markdown", submit.markdown_file,
                  "with --wait: append a Markdown summary to this file (e.g. $GITHUB_STEP_SUMMARY)");
  sub->add_option("--html", submit.html_file, "with --wait: write the single-file HTML report here");
  sub->add_option("--public-url", submit.public_url,
                  "the aggregator's URL as readers reach it: --markdown links the run's report there")
      ->envname("TESTFLEET_PUBLIC_URL")
      ->check(CLI::Validator([](std::string& url) { return publicUrlProblem(url); }, "URL"));
  sub->add_option("--aggregator", submit.follow.aggregator_url, "aggregator base URL")
      ->envname("TESTFLEET_AGGREGATOR")
      ->capture_default_str();
  sub->add_option("--bundle-base-url", submit.bundle_base_url,
                  "the aggregator's URL as workers reach it, for bundles (default: --aggregator)")
      ->envname("TESTFLEET_BUNDLE_BASE_URL");
  sub->add_option("--api-token-file", c.api_token_file,
                  "file holding the aggregator's API token (its --api-token-file), sent with bundle uploads")
      ->envname("TESTFLEET_API_TOKEN_FILE");
  sub->add_flag_callback(
      "--no-history", [&submit] { submit.use_history = false; },
      "publish jobs in suite order instead of longest-expected first");
  sub->add_option("--run-id", submit.run_id, "use this run id instead of a random one");
  sub->add_flag("--allow-empty", submit.allow_empty,
                "a suite with no tests exits 0 with nothing submitted (without it: exit 2)");
  sub->add_option("--cancel-grace", submit.cancel_grace_s,
                  "with --wait, after SIGINT/SIGTERM cancelled the run: seconds to wait for it to end CANCELLED and "
                  "write the reports before exiting 4 without them (a second signal exits at once)")
      ->check(CLI::Range(0, 3600))
      ->capture_default_str();
  addLabelOption(*sub, submit.labels);
  addDurationOption(*sub, "--deadline", submit.follow.deadline, "give up waiting after this long (exit 3)",
                    std::chrono::milliseconds(1));
  addDurationOption(*sub, "--stall-timeout", submit.follow.stall_timeout,
                    "give up when no job finished for this long (exit 3)", std::chrono::milliseconds(1));
}

void addDlqCommand(CLI::App& app, ProducerCommands& c) {
  c.dlq_command = app.add_subcommand("dlq", "dead letters: records nobody could process, and why");
  c.dlq_command->require_subcommand(1);
  c.dlq_list_command = c.dlq_command->add_subcommand("list", "list every dead letter (oldest first)");
  c.dlq_list_command->add_flag("--json", c.dlq_json, "as JSON");
  auto* replay =
      c.dlq_command->add_subcommand("replay", "send dead letters back where they came from (a job as a new attempt)");
  replay->add_option("which", c.replay_which, "OFFSET or PARTITION:OFFSET, as `dlq list` shows")->required();
}

}  // namespace

void addProducerCommands(CLI::App& app, ProducerCommands& commands) {
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 done (submit --wait: every test passed); 1 submit --wait: tests failed; 2 bad command line, "
      "--config file or suite, nothing published; 3 Kafka or the aggregator unreachable, or the run stalled or "
      "passed its --deadline; 4 submit --wait: the run was cancelled (`testfleet cancel`, the API, or SIGINT/SIGTERM "
      "of submit --wait).");
  addClusterOptions(app, commands.cluster);
  // The cluster's options (--brokers, --topic-prefix, --log-level, …) belong to the app, and are accepted after a
  // subcommand too (`testfleet submit suite.yaml --brokers kafka:9092`): every subcommand, created after this,
  // hands an option it does not know to its parent.
  app.fallthrough();
  addSubmitCommand(app, commands);
  commands.cancel_command =
      app.add_subcommand("cancel", "cancel a run: workers skip its queued jobs and stop its running ones");
  commands.cancel_command->add_option("run", commands.cancel_run_id, "the run id `submit` printed")->required();
  commands.topics_command = app.add_subcommand("topics", "create the topics (idempotent)");
  addDlqCommand(app, commands);
}

}  // namespace testfleet::producer
