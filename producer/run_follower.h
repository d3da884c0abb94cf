// Follows a submitted run through the aggregator's HTTP API until it completes, stalls or passes its deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "common/api/run_view.h"

namespace testfleet::producer {

struct FollowSettings {
  std::string aggregator_url = "http://127.0.0.1:8480";
  std::chrono::milliseconds poll_interval{500};               // between answers the aggregator did not hold
  std::chrono::milliseconds long_poll{5000};                  // how long the aggregator may hold an answer for a change
  std::chrono::milliseconds deadline{std::chrono::hours(2)};  // the whole run
  std::chrono::milliseconds stall_timeout{std::chrono::minutes(5)};  // no job finished for this long
  bool live_progress = false;  // redraw one line (a terminal) instead of a line every 10 s
};

// kRunIdTaken: the aggregator's run with this id is another submission's (its manifest arrived first).
enum class FollowOutcome { kCompleted, kStalled, kDeadline, kRunIdTaken };

struct FollowResult {
  FollowOutcome outcome = FollowOutcome::kCompleted;
  api::RunView run;     // the last view of the run (with jobs and cases when completed)
  std::string problem;  // for every outcome but kCompleted: what went wrong
};

// Follows the run that this process submitted at `submitted_at_ms` (its manifest's time, which tells this
// submission's run from another that took the same id first).
FollowResult followRun(const std::string& run_id, int64_t submitted_at_ms, const FollowSettings& settings,
                       std::ostream& progress);

// A test case of a finished run that did not pass; the pointers are into the run given to failingCases.
struct FailingCase {
  const api::JobView* job;
  const api::CaseView* test;
};

// The failing test cases of a run, in job order: a case whose status is a failing verdict, or is no verdict name
// at all (listed, to be safe).
std::vector<FailingCase> failingCases(const api::RunView& run);

// "Class::name", or "name" for a case without a class name.
std::string testName(const api::CaseView& test);

// The human summary of a finished run: counts, success rate, times, then each failing test with its message.
std::string formatSummary(const api::RunView& run);

// One progress line: "[#####.....] 120/200 jobs · 3 failing · 12.3 s".
std::string progressLine(const api::RunView& run, std::chrono::milliseconds elapsed, int width = 30);

}  // namespace testfleet::producer
