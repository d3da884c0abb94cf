#include "aggregator/reports/summary.h"

#include <algorithm>
#include <cstdint>
#include <utility>

namespace testfleet::aggregator {

Summary summarise(const RunInfo& run, const std::vector<v1::Result>& results, int64_t now_ms) {
  Summary s;
  for (const auto& r : results) {
    ++s.jobs;
    for (const auto& c : r.cases()) {
      ++s.total;
      s.total_ms += c.duration_ms();
      switch (c.status()) {
        case v1::PASSED:
          ++s.passed;
          break;
        case v1::FAILED:
          ++s.failed;
          break;
        case v1::SKIPPED:
          ++s.skipped;
          break;
        case v1::FLAKY:
          ++s.flaky;
          break;
        case v1::TIMEOUT:
          ++s.timeout;
          break;
        case v1::OOM:
          ++s.oom;
          break;
        case v1::CRASHED:
          ++s.crashed;
          break;
        case v1::CANCELLED:
          ++s.cancelled;
          break;
        default:
          ++s.error;
          break;
      }
    }
  }
  const int ran = s.total - s.skipped - s.cancelled;
  s.success_rate = ran > 0 ? 100.0 * (s.passed + s.flaky) / ran : 100.0;
  s.avg_ms = s.total > 0 ? s.total_ms / s.total : 0;
  const int64_t end = run.complete() ? run.completed_at_ms : now_ms;
  s.wall_ms = static_cast<double>(std::max<int64_t>(0, end - run.manifest.submitted_at_ms()));
  s.passed_run = run.verdict().passed;
  s.cancelled_run = run.verdict().cancelled;

  std::vector<std::pair<int64_t, int>> edges;  // (time, +1 start / -1 end)
  int64_t first = INT64_MAX, last = 0;
  double work = 0, longest = 0;
  for (const auto& r : results) {
    if (r.started_at_ms() <= 0 || r.finished_at_ms() < r.started_at_ms()) continue;
    edges.push_back({r.started_at_ms(), 1});
    edges.push_back({r.finished_at_ms(), -1});
    first = std::min(first, r.started_at_ms());  // started_at_ms 0 means "not recorded", skipped above
    last = std::max(last, r.finished_at_ms());
    const double d = static_cast<double>(r.finished_at_ms() - r.started_at_ms());
    work += d;
    longest = std::max(longest, d);
  }
  std::sort(edges.begin(), edges.end());  // ends sort before starts at the same instant
  int busy = 0;
  for (const auto& [t, delta] : edges) s.peak_slots = std::max(s.peak_slots, busy += delta);
  s.makespan_ms = edges.empty() ? 0 : static_cast<double>(last - first);
  s.lower_bound_ms = s.peak_slots > 0 ? std::max(longest, work / s.peak_slots) : 0;
  return s;
}

}  // namespace testfleet::aggregator
