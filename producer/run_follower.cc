#include "producer/run_follower.h"

#include <cstdio>
#include <ostream>
#include <thread>

#include "common/http_client.h"
#include "common/verdict.h"

namespace testfleet::producer {
namespace {
using Clock = std::chrono::steady_clock;
using nlohmann::json;

std::string seconds(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", ms / 1000.0);
  return buf;
}
}  // namespace

std::string progressLine(const json& run, std::chrono::milliseconds elapsed, int width) {
  const uint64_t expected = run.value("expected_jobs", 0u);
  const uint64_t done = run.value("jobs_done", 0u);
  const uint64_t failing = run.value("jobs_failing", 0u);
  int filled = expected ? static_cast<int>(width * done / expected) : 0;
  std::string bar = "[" + std::string(filled, '#') + std::string(width - filled, '.') + "]";
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s %llu/%llu jobs · %llu failing · %.1f s", bar.c_str(),
                static_cast<unsigned long long>(done), static_cast<unsigned long long>(expected),
                static_cast<unsigned long long>(failing), elapsed.count() / 1000.0);
  return buf;
}

std::string formatSummary(const json& run) {
  const json& s = run.at("summary");
  std::string out;
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "testfleet: suite '%s', run %s\n"
                "  tests: %d total, %d passed, %d failed, %d skipped, %d flaky, %d timeout, %d oom, %d crashed, "
                "%d error\n"
                "  success rate: %.1f%%\n"
                "  time: %s total test time, %s average per test, %s wall (submit to verdict)\n",
                run.value("suite", "").c_str(), run.value("run_id", "").c_str(), s.value("total", 0),
                s.value("passed", 0), s.value("failed", 0), s.value("skipped", 0), s.value("flaky", 0),
                s.value("timeout", 0), s.value("oom", 0), s.value("crashed", 0), s.value("error", 0),
                s.value("success_rate", 0.0), seconds(s.value("total_ms", 0.0)).c_str(),
                seconds(s.value("avg_ms", 0.0)).c_str(), seconds(s.value("wall_ms", 0.0)).c_str());
  out += buf;
  if (s.value("peak_slots", 0) > 0) {
    std::snprintf(buf, sizeof buf, "  schedule: makespan %s against a lower bound of %s (%d slots busy at the peak)\n",
                  seconds(s.value("makespan_ms", 0.0)).c_str(), seconds(s.value("lower_bound_ms", 0.0)).c_str(),
                  s.value("peak_slots", 0));
    out += buf;
  }
  bool header = false;
  for (const auto& job : run.value("jobs", json::array())) {
    for (const auto& c : job.value("cases", json::array())) {
      std::string status = c.value("status", "");
      const auto verdict = verdictFromName(status);
      if (verdict && !isFailing(*verdict)) continue;  // an unknown status is listed, to be safe
      if (!header) {
        out += "  failing:\n";
        header = true;
      }
      std::string name = c.value("classname", "");
      name += (name.empty() ? "" : "::") + c.value("name", "");
      std::string message = c.value("message", "");
      if (auto nl = message.find('\n'); nl != std::string::npos) message = message.substr(0, nl);
      if (message.size() > 300) message = message.substr(0, 300) + "…";
      out += "    " + status + "  " + job.value("name", "") + "  " + name + (message.empty() ? "" : ": " + message) +
             "\n";
    }
  }
  return out;
}

FollowResult followRun(const std::string& run_id, int64_t submitted_at_ms, const FollowSettings& settings,
                       std::ostream& progress) {
  HttpClient http(std::chrono::seconds(10));
  const std::string url = settings.aggregator_url + "/v1/runs/" + run_id;
  const auto start = Clock::now();
  auto last_change = start;
  auto last_line = start;
  int64_t last_done = -1;
  std::string last_problem = "the aggregator has not seen the run yet";
  FollowResult result;
  for (;;) {
    HttpResponse r = http.get(url + "?jobs=false");
    const auto now = Clock::now();
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - start);
    if (r.status == 200) {
      json run = json::parse(r.body, nullptr, false);
      if (!run.is_discarded()) {
        result.run = run;
        if (run.value("submitted_at_ms", int64_t{0}) != submitted_at_ms) {
          result.outcome = FollowOutcome::kRunIdTaken;
          result.problem = "run id " + run_id + " belongs to another submission (suite '" + run.value("suite", "") +
                           "') whose manifest reached the aggregator first";
          return result;
        }
        int64_t done = run.value("jobs_done", 0);
        if (done != last_done) {
          last_done = done;
          last_change = now;
        }
        if (settings.live_progress) {
          progress << "\r" << progressLine(run, elapsed) << std::flush;
        } else if (now - last_line >= std::chrono::seconds(10)) {
          progress << progressLine(run, elapsed) << "\n" << std::flush;
          last_line = now;
        }
        if (run.value("state", "") == "complete") {
          if (settings.live_progress) progress << "\n";
          HttpResponse full = http.get(url);
          json all = full.status == 200 ? json::parse(full.body, nullptr, false) : json();
          result.run = all.is_discarded() || all.is_null() ? run : all;
          result.outcome = FollowOutcome::kCompleted;
          return result;
        }
        last_problem = std::to_string(run.value("expected_jobs", 0) - done) + " of " +
                       std::to_string(run.value("expected_jobs", 0)) + " jobs have no result";
      }
    } else if (!r.error.empty()) {
      last_problem = "the aggregator at " + settings.aggregator_url + " does not answer: " + r.error;
    }
    if (now - start >= settings.deadline) {
      result.outcome = FollowOutcome::kDeadline;
      result.problem = "deadline of " + seconds(settings.deadline.count()) + " passed: " + last_problem;
      return result;
    }
    if (now - last_change >= settings.stall_timeout) {
      result.outcome = FollowOutcome::kStalled;
      result.problem = "no progress for " + seconds(settings.stall_timeout.count()) + ": " + last_problem +
                       " (are workers running?)";
      return result;
    }
    std::this_thread::sleep_for(settings.poll_interval);
  }
}

}  // namespace testfleet::producer
