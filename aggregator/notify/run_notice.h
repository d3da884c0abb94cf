// What the aggregator tells the outside world when a run completes: a webhook body (JSON or a Slack/Teams
// message), its signature, and a GitHub commit status. Pure: a finished run in, text out; no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "aggregator/reports/summary.h"
#include "aggregator/storage/result_store.h"

namespace testfleet::aggregator {

enum class WebhookFormat { kJson, kSlack };

// A completed run as its notifications describe it. Counts are per test case, as in the run's report.
struct RunNotice {
  std::string run_id;
  std::string suite;
  std::string verdict;  // "passed" | "failed" | "cancelled" (RunInfo::verdict)
  int total = 0, passed = 0, failed = 0, flaky = 0, skipped = 0, errors = 0, timeout = 0, oom = 0, crashed = 0;
  int64_t duration_ms = 0;  // submission to completion
  std::map<std::string, std::string> labels;
  std::string link;  // the run's HTML report under --public-url; empty without one
};

// public_url: the aggregator's address as its readers reach it (no trailing slash needed); "" for no link.
RunNotice makeRunNotice(const RunInfo& run, const Summary& summary, const std::string& public_url);

// The webhook body: a JSON object of the notice's fields (kJson), or {"text": one line with the link} (kSlack).
std::string webhookBody(const RunNotice& notice, WebhookFormat format);
// "suite: PASSED, 12 passed, 0 failed, 1 flaky, 0 errors, 2 skipped in 41s (run r) <link>".
std::string oneLineSummary(const RunNotice& notice);

// The X-Testfleet-Signature header's value: "sha256=" and the hex HMAC-SHA256 of the body with the secret.
std::string webhookSignature(const std::string& secret, const std::string& body);

// A commit status for GitHub's POST /repos/{owner}/{name}/statuses/{sha}.
struct CommitStatus {
  std::string path;  // "/repos/owner/name/statuses/sha"
  std::string body;  // {"state", "description", "context": "testfleet", "target_url" when there is a link}
};
// For a run labelled `repository` (owner/name) and `commit` (a hex sha); nullopt otherwise. The state is success
// for a passed run, error when nothing failed but the infrastructure (only ERROR cases), failure otherwise.
std::optional<CommitStatus> commitStatus(const RunNotice& notice);

}  // namespace testfleet::aggregator
