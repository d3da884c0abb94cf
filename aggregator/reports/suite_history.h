// A suite's recent runs seen together: one test's history, the flaky and the slowest tests, and the trend of
// duration and pass rate. Pure: the API reads the runs (final results with markFlaky applied) and asks these.
// Tests are named by caseName.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "aggregator/reports/summary.h"

namespace testfleet::aggregator {

struct SuiteRun {
  RunInfo run;
  std::vector<v1::Result> finals;  // each job's final result, flaky cases marked (markFlaky)
};

struct TestOutcome {
  std::string run_id;
  int64_t submitted_at_ms = 0;
  v1::Verdict verdict = v1::VERDICT_UNSPECIFIED;
  uint32_t duration_ms = 0;
};

struct FlakyTest {
  std::string test;
  int runs = 0, passed = 0, failed = 0, flaky = 0;  // runs it ran in; of those, by verdict (failed: any failing)
};

struct SlowTest {
  std::string test;
  int runs = 0;
  uint32_t mean_ms = 0, max_ms = 0;
};

struct TrendPoint {
  std::string run_id;
  int64_t submitted_at_ms = 0;
  double wall_ms = 0;       // submit to completion
  double success_rate = 0;  // Summary::success_rate
  bool passed = false;
};

// The test's outcome in each run it ran in, in the runs' order; runs without it are left out.
std::vector<TestOutcome> testHistory(const std::vector<SuiteRun>& runs, const std::string& test);
// Tests that were FLAKY in a run, or passed in one run and failed in another: most unsteady first.
std::vector<FlakyTest> flakyTests(const std::vector<SuiteRun>& runs);
// The `n` tests with the longest mean duration over the runs they ran in.
std::vector<SlowTest> slowestTests(const std::vector<SuiteRun>& runs, size_t n);
// One point per complete run, oldest first.
std::vector<TrendPoint> suiteTrend(const std::vector<SuiteRun>& runs);

}  // namespace testfleet::aggregator
