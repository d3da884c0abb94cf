#include "aggregator/reports/summary.h"

#include "common/verdict.h"

namespace testfleet::aggregator {

Summary summarise(const RunInfo& run, const std::vector<v1::Result>& results, int64_t now_ms) {
  Summary s;
  bool any_failing = false;
  const bool flaky_fails = run.manifest.flaky_fails_run();
  for (const auto& r : results) {
    ++s.jobs;
    if (isFailing(r.verdict()) || (flaky_fails && r.verdict() == v1::FLAKY)) {
      ++s.jobs_failing;
      any_failing = true;
    }
    for (const auto& c : r.cases()) {
      ++s.total;
      s.total_ms += c.duration_ms();
      switch (c.status()) {
        case v1::PASSED: ++s.passed; break;
        case v1::FAILED: ++s.failed; break;
        case v1::SKIPPED: ++s.skipped; break;
        case v1::FLAKY: ++s.flaky; break;
        case v1::TIMEOUT: ++s.timeout; break;
        case v1::OOM: ++s.oom; break;
        case v1::CRASHED: ++s.crashed; break;
        default: ++s.error; break;
      }
      any_failing |= isFailing(c.status()) || (flaky_fails && c.status() == v1::FLAKY);
    }
  }
  const int ran = s.total - s.skipped;
  s.success_rate = ran > 0 ? 100.0 * (s.passed + s.flaky) / ran : 100.0;
  s.avg_ms = s.total > 0 ? s.total_ms / s.total : 0;
  const int64_t end = run.complete() ? run.completed_at_ms : now_ms;
  s.wall_ms = static_cast<double>(std::max<int64_t>(0, end - run.manifest.submitted_at_ms()));
  s.passed_run = run.complete() && !any_failing && s.jobs >= static_cast<int>(run.manifest.expected_jobs());
  return s;
}

}  // namespace testfleet::aggregator
