#include "aggregator/notify/run_notice.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

#include "common/bundle.h"
#include "common/duration.h"

namespace testfleet::aggregator {
namespace {
using json = nlohmann::json;

std::string withoutTrailingSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// Owner and name as GitHub allows them: letters, digits, '-', '_', '.'; one slash between them.
bool isRepository(const std::string& text) {
  const auto slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == text.size() || text.find('/', slash + 1) != text.npos)
    return false;
  return std::all_of(text.begin(), text.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '/'; });
}

bool isCommitSha(const std::string& text) {
  return text.size() >= 7 && text.size() <= 64 &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isxdigit(c); });
}

// Text from run labels and suite names need not be valid UTF-8; JSON must be.
std::string dumpJson(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string counts(const RunNotice& n) {
  return std::to_string(n.passed) + " passed, " + std::to_string(n.failed) + " failed, " + std::to_string(n.flaky) +
         " flaky, " + std::to_string(n.errors) + " errors, " + std::to_string(n.skipped) + " skipped";
}
}  // namespace

RunNotice makeRunNotice(const RunInfo& run, const Summary& summary, const std::string& public_url) {
  RunNotice n;
  n.run_id = run.manifest.run_id();
  n.suite = run.manifest.suite_name();
  const RunVerdict verdict = run.verdict();
  n.verdict = verdict.cancelled ? "cancelled" : verdict.passed ? "passed" : "failed";
  n.total = summary.total;
  n.passed = summary.passed;
  n.failed = summary.failed;
  n.flaky = summary.flaky;
  n.skipped = summary.skipped;
  n.errors = summary.error;
  n.timeout = summary.timeout;
  n.oom = summary.oom;
  n.crashed = summary.crashed;
  n.duration_ms = std::max<int64_t>(0, run.completed_at_ms - run.manifest.submitted_at_ms());
  n.labels.insert(run.manifest.labels().begin(), run.manifest.labels().end());
  if (!public_url.empty()) n.link = withoutTrailingSlash(public_url) + "/v1/runs/" + n.run_id + "/report.html";
  return n;
}

std::string oneLineSummary(const RunNotice& n) {
  std::string verdict = n.verdict;
  std::transform(verdict.begin(), verdict.end(), verdict.begin(), [](unsigned char c) { return std::toupper(c); });
  std::string line = n.suite + ": " + verdict + ", " + counts(n) + " in " +
                     formatDuration(std::chrono::milliseconds(n.duration_ms)) + " (run " + n.run_id + ")";
  if (!n.link.empty()) line += " " + n.link;
  return line;
}

std::string webhookBody(const RunNotice& n, WebhookFormat format) {
  if (format == WebhookFormat::kSlack) return dumpJson({{"text", oneLineSummary(n)}});
  json body = {{"event", "run.completed"},
               {"run_id", n.run_id},
               {"suite", n.suite},
               {"verdict", n.verdict},
               {"counts",
                {{"total", n.total},
                 {"passed", n.passed},
                 {"failed", n.failed},
                 {"flaky", n.flaky},
                 {"skipped", n.skipped},
                 {"errors", n.errors},
                 {"timeout", n.timeout},
                 {"oom", n.oom},
                 {"crashed", n.crashed}}},
               {"duration_ms", n.duration_ms},
               {"labels", n.labels}};
  if (!n.link.empty()) body["link"] = n.link;
  return dumpJson(body);
}

std::string webhookSignature(const std::string& secret, const std::string& body) {
  return "sha256=" + hmacSha256Hex(secret, body);
}

std::optional<CommitStatus> commitStatus(const RunNotice& n) {
  const auto repository = n.labels.find("repository");
  const auto commit = n.labels.find("commit");
  if (repository == n.labels.end() || commit == n.labels.end()) return std::nullopt;
  if (!isRepository(repository->second) || !isCommitSha(commit->second)) return std::nullopt;
  // GitHub's commit states have no "cancelled": a cancelled run, like one that failed only by infrastructure
  // errors, is "error" (not the tests' fault).
  const bool only_errors = n.errors > 0 && n.failed + n.timeout + n.oom + n.crashed == 0;
  std::string state = "failure";
  if (n.verdict == "passed") {
    state = "success";
  } else if (n.verdict == "cancelled" || only_errors) {
    state = "error";
  }
  json body = {{"state", state}, {"description", counts(n)}, {"context", "testfleet"}};
  if (!n.link.empty()) body["target_url"] = n.link;
  return CommitStatus{"/repos/" + repository->second + "/statuses/" + commit->second, dumpJson(body)};
}

}  // namespace testfleet::aggregator
