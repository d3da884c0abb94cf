#include "aggregator/reports/suite_history.h"

#include <algorithm>
#include <map>

#include "aggregator/reports/case_name.h"
#include "common/verdict.h"

namespace testfleet::aggregator {

std::vector<TestOutcome> testHistory(const std::vector<SuiteRun>& runs, const std::string& test) {
  std::vector<TestOutcome> out;
  for (const auto& r : runs) {
    for (const auto& job : r.finals) {
      for (const auto& c : job.cases()) {
        if (caseName(c) != test) continue;
        out.push_back({r.run.manifest.run_id(), r.run.manifest.submitted_at_ms(), c.status(), c.duration_ms()});
      }
    }
  }
  return out;
}

std::vector<FlakyTest> flakyTests(const std::vector<SuiteRun>& runs) {
  std::map<std::string, FlakyTest> seen;
  for (const auto& r : runs) {
    for (const auto& job : r.finals) {
      for (const auto& c : job.cases()) {
        if (c.status() == v1::SKIPPED) continue;
        FlakyTest& t = seen[caseName(c)];
        ++t.runs;
        if (c.status() == v1::FLAKY) {
          ++t.flaky;
        } else if (isFailing(c.status())) {
          ++t.failed;
        } else if (c.status() == v1::PASSED) {
          ++t.passed;
        }
      }
    }
  }
  std::vector<FlakyTest> out;
  for (auto& [name, t] : seen) {
    if (t.flaky > 0 || (t.passed > 0 && t.failed > 0)) {
      t.test = name;
      out.push_back(t);
    }
  }
  // Most unsteady first: the share of runs it did not simply pass, then by name for a stable order.
  std::stable_sort(out.begin(), out.end(), [](const FlakyTest& a, const FlakyTest& b) {
    return static_cast<double>(a.flaky + a.failed) / a.runs > static_cast<double>(b.flaky + b.failed) / b.runs;
  });
  return out;
}

std::vector<SlowTest> slowestTests(const std::vector<SuiteRun>& runs, size_t n) {
  std::map<std::string, std::pair<uint64_t, SlowTest>> seen;  // total ms, the test so far
  for (const auto& r : runs) {
    for (const auto& job : r.finals) {
      for (const auto& c : job.cases()) {
        auto& [total, t] = seen[caseName(c)];
        total += c.duration_ms();
        ++t.runs;
        t.max_ms = std::max(t.max_ms, c.duration_ms());
      }
    }
  }
  std::vector<SlowTest> out;
  for (auto& [name, entry] : seen) {
    auto& [total, t] = entry;
    t.test = name;
    t.mean_ms = static_cast<uint32_t>(total / static_cast<uint64_t>(t.runs));
    out.push_back(t);
  }
  std::stable_sort(out.begin(), out.end(), [](const SlowTest& a, const SlowTest& b) { return a.mean_ms > b.mean_ms; });
  if (out.size() > n) out.resize(n);
  return out;
}

std::vector<TrendPoint> suiteTrend(const std::vector<SuiteRun>& runs) {
  std::vector<TrendPoint> out;
  for (const auto& r : runs) {
    if (!r.run.complete()) continue;
    const Summary s = summarise(r.run, r.finals, r.run.completed_at_ms);
    out.push_back(
        {r.run.manifest.run_id(), r.run.manifest.submitted_at_ms(), s.wall_ms, s.success_rate, r.run.verdict().passed});
  }
  std::sort(out.begin(), out.end(),
            [](const TrendPoint& a, const TrendPoint& b) { return a.submitted_at_ms < b.submitted_at_ms; });
  return out;
}

}  // namespace testfleet::aggregator
