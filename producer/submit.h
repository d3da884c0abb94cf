// `testfleet submit`: load → plan → publish → (optionally) wait, print the summary, write reports.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "common/kafka/kafka.h"
#include "producer/run_follower.h"

namespace testfleet::producer {

// Exit codes of the CLI, the contract with CI systems.
enum ExitCode : int { kAllPassed = 0, kTestsFailed = 1, kUsageError = 2, kInfrastructure = 3, kCancelled = 4 };

struct SubmitOptions {
  std::string suite_file;
  kafka::ClientSettings kafka;
  std::string topic_prefix = "testfleet";
  std::string run_id;  // empty: a random one
  std::map<std::string, std::string> labels;
  bool wait = false;
  bool use_history = true;   // order jobs by the durations the aggregator remembers
  bool allow_empty = false;  // a suite with no tests exits 0 (nothing submitted) instead of 2
  int cancel_grace_s = 20;   // interrupted --wait: how long to wait for the cancelled run to end, for its reports
  std::string junit_file;    // written after waiting, when set
  std::string json_file;
  std::string markdown_file;
  std::string html_file;
  std::string bundle_base_url;      // where workers fetch uploaded bundles; empty = the aggregator URL
  std::string api_token;            // sent with uploads when set (the aggregator's --api-token-file)
  std::string public_url;           // the aggregator's URL as readers reach it, for the run's link in --markdown
  bool github_annotations = false;  // after waiting, print a workflow command per failing test (GitHub Actions)
  FollowSettings follow;
  // Called with the run id once its jobs are published (main cancels that run when submit --wait is interrupted).
  std::function<void(const std::string& run_id)> on_published;
};

int runSubmit(const SubmitOptions& options);

}  // namespace testfleet::producer
