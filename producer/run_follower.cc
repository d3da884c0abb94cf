#include "producer/run_follower.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <ostream>
#include <thread>

#include "common/http_client.h"
#include "common/verdict.h"

namespace testfleet::producer {
namespace {
using Clock = std::chrono::steady_clock;

std::string seconds(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", ms / 1000.0);
  return buf;
}
}  // namespace

std::string progressLine(const api::RunView& run, std::chrono::milliseconds elapsed, int width) {
  const uint64_t expected = run.expected_jobs;
  const uint64_t done = run.jobs_done;
  const uint64_t failing = run.jobs_failing;
  int filled = expected ? static_cast<int>(width * std::min(done, expected) / expected) : 0;
  std::string bar = "[" + std::string(filled, '#') + std::string(width - filled, '.') + "]";
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s %llu/%llu jobs · %llu failing · %.1f s", bar.c_str(),
                static_cast<unsigned long long>(done), static_cast<unsigned long long>(expected),
                static_cast<unsigned long long>(failing), static_cast<double>(elapsed.count()) / 1000.0);
  return buf;
}

std::vector<FailingCase> failingCases(const api::RunView& run) {
  std::vector<FailingCase> failing;
  if (!run.jobs) return failing;
  for (const auto& job : *run.jobs) {
    for (const auto& c : job.cases) {
      const auto verdict = verdictFromName(c.status);
      if (!verdict || isFailing(*verdict)) failing.push_back({&job, &c});
    }
  }
  return failing;
}

std::string testName(const api::CaseView& test) {
  return test.classname.empty() ? test.name : test.classname + "::" + test.name;
}

std::string formatSummary(const api::RunView& run) {
  const api::SummaryView s = run.summary.value_or(api::SummaryView{});
  std::string out;
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "testfleet: suite '%s', run %s\n"
                "  tests: %d total, %d passed, %d failed, %d skipped, %d flaky, %d timeout, %d oom, %d crashed, "
                "%d error\n"
                "  success rate: %.1f%%\n"
                "  time: %s total test time, %s average per test, %s wall (submit to verdict)\n",
                run.suite.c_str(), run.run_id.c_str(), s.total, s.passed, s.failed, s.skipped, s.flaky, s.timeout,
                s.oom, s.crashed, s.error, s.success_rate, seconds(s.total_ms).c_str(), seconds(s.avg_ms).c_str(),
                seconds(s.wall_ms).c_str());
  out += buf;
  if (run.cancelled()) out += "  CANCELLED: the run was cancelled; its unfinished jobs were stopped or skipped\n";
  if (s.peak_slots > 0) {
    std::snprintf(buf, sizeof buf, "  schedule: makespan %s against a lower bound of %s (%d slots busy at the peak)\n",
                  seconds(s.makespan_ms).c_str(), seconds(s.lower_bound_ms).c_str(), s.peak_slots);
    out += buf;
  }
  const std::vector<FailingCase> failing = failingCases(run);
  if (!failing.empty()) out += "  failing:\n";
  for (const auto& [job, c] : failing) {
    std::string message = c->message;
    if (auto nl = message.find('\n'); nl != std::string::npos) message = message.substr(0, nl);
    if (message.size() > 300) message = message.substr(0, 300) + "…";
    out += "    " + c->status + "  " + job->name + "  " + testName(*c) + (message.empty() ? "" : ": " + message) + "\n";
  }
  return out;
}

FollowResult followRun(const std::string& run_id, int64_t submitted_at_ms, const FollowSettings& settings,
                       std::ostream& progress) {
  // Long-polls: the aggregator holds each progress answer until a job finishes (at most long_poll), so the run's
  // end is seen when its last result is stored. An aggregator that answers at once anyway is polled every
  // poll_interval.
  HttpClient http(std::chrono::seconds(10) + settings.long_poll);
  const std::string url = settings.aggregator_url + "/v1/runs/" + run_id;
  const auto start = Clock::now();
  auto last_change = start;
  auto last_line = start;
  int64_t last_done = -1;
  std::string last_problem = "the aggregator has not seen the run yet";
  FollowResult result;
  for (;;) {
    const auto asked = Clock::now();
    std::string query = "?jobs=false";
    if (last_done >= 0) {
      query += "&done=" + std::to_string(last_done) + "&wait_ms=" + std::to_string(settings.long_poll.count());
    }
    HttpResponse r = http.get(url + query);
    const auto now = Clock::now();
    bool moved = false;
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - start);
    if (r.status == 200) {
      if (std::optional<api::RunView> run = api::parseRunView(r.body)) {
        result.run = *run;
        if (run->submitted_at_ms != submitted_at_ms) {
          result.outcome = FollowOutcome::kRunIdTaken;
          result.problem = "run id " + run_id + " belongs to another submission (suite '" + run->suite +
                           "') whose manifest reached the aggregator first";
          return result;
        }
        const int64_t done = run->jobs_done;
        if (done != last_done) {
          moved = true;
          last_done = done;
          last_change = now;
        }
        if (settings.live_progress) {
          progress << "\r" << progressLine(*run, elapsed) << std::flush;
        } else if (now - last_line >= std::chrono::seconds(10)) {
          progress << progressLine(*run, elapsed) << "\n" << std::flush;
          last_line = now;
        }
        if (run->complete()) {
          if (settings.live_progress) progress << "\n";
          HttpResponse full = http.get(url);
          std::optional<api::RunView> all = full.status == 200 ? api::parseRunView(full.body) : std::nullopt;
          result.run = all ? *all : *run;
          result.outcome = FollowOutcome::kCompleted;
          return result;
        }
        last_problem = std::to_string(int64_t{run->expected_jobs} - done) + " of " +
                       std::to_string(run->expected_jobs) + " jobs have no result";
      }
    } else if (!r.error.empty()) {
      last_problem = "the aggregator at " + settings.aggregator_url + " does not answer: " + r.error;
    }
    if (now - start >= settings.deadline) {
      result.outcome = FollowOutcome::kDeadline;
      result.problem =
          "deadline of " + seconds(static_cast<double>(settings.deadline.count())) + " passed: " + last_problem;
      return result;
    }
    if (now - last_change >= settings.stall_timeout) {
      result.outcome = FollowOutcome::kStalled;
      result.problem = "no progress for " + seconds(static_cast<double>(settings.stall_timeout.count())) + ": " +
                       last_problem + " (are workers running?)";
      return result;
    }
    const bool held = now - asked >= settings.long_poll / 2;  // the aggregator waited for a change
    if (!moved && !held) std::this_thread::sleep_for(settings.poll_interval);
  }
}

}  // namespace testfleet::producer
