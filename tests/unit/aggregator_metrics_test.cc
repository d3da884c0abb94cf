#include <doctest/doctest.h>

#include <string>

#include "aggregator/metrics.h"

using namespace testfleet;
using namespace testfleet::aggregator;

namespace {
bool has(const std::string& text, const std::string& line) { return text.find(line + "\n") != std::string::npos; }

v1::Result stored(v1::Verdict verdict, bool final, int64_t finished_ms) {
  v1::Result r;
  r.set_verdict(verdict);
  r.set_final(final);
  r.set_finished_at_ms(finished_ms);
  r.mutable_usage()->set_wall_ms(100);
  return r;
}

RunInfo run(int64_t submitted_ms, int64_t completed_ms, v1::Verdict job_verdict) {
  RunInfo info;
  info.manifest.set_expected_jobs(1);
  info.manifest.set_submitted_at_ms(submitted_ms);
  info.completed_at_ms = completed_ms;
  info.job_verdicts[job_verdict] = 1;
  return info;
}
}  // namespace

TEST_CASE("aggregator metrics: ingest lag runs from the result's end to its storing; a run's from submit to done") {
  CHECK(ingestLagSeconds(stored(v1::PASSED, true, 10'000), 12'500) == doctest::Approx(2.5));
  CHECK(ingestLagSeconds(stored(v1::PASSED, true, 10'000), 9'000) == 0);  // a worker's clock ahead: 0
  CHECK(ingestLagSeconds(stored(v1::PASSED, true, 0), 9'000) == 0);       // unknown end: not 9 s
  CHECK(runDurationSeconds(run(1'000, 61'000, v1::PASSED)) == doctest::Approx(60));
  CHECK(runDurationSeconds(run(1'000, 0, v1::PASSED)) == 0);  // still running
}

TEST_CASE("aggregator metrics: a retried ERROR counts as an attempt, not as a final error") {
  AggregatorMetrics m;
  std::string text = m.serialize();
  CHECK(has(text, R"(testfleet_job_verdicts_total{verdict="error"} 0)"));
  CHECK(has(text, R"(testfleet_results_total{verdict="error"} 0)"));
  CHECK(has(text, R"(testfleet_runs_completed_total{result="failed"} 0)"));
  CHECK(has(text, R"(testfleet_records_rejected_total{reason="undecodable"} 0)"));
  CHECK(has(text, "testfleet_runs_in_progress 0"));
  CHECK(text.find("testfleet_build_info{") != std::string::npos);

  m.resultStored(stored(v1::ERROR, false, 1'000), 2'000);
  m.resultStored(stored(v1::PASSED, true, 3'000), 3'500);
  m.runCompleted(run(0, 4'000, v1::PASSED));
  m.runCompleted(run(0, 4'000, v1::FAILED));
  m.runsInProgress(3);
  text = m.serialize();
  CHECK(has(text, R"(testfleet_results_total{verdict="error"} 1)"));
  CHECK(has(text, R"(testfleet_results_total{verdict="passed"} 1)"));
  CHECK(has(text, R"(testfleet_job_verdicts_total{verdict="error"} 0)"));
  CHECK(has(text, R"(testfleet_job_verdicts_total{verdict="passed"} 1)"));
  CHECK(has(text, R"(testfleet_runs_completed_total{result="passed"} 1)"));
  CHECK(has(text, R"(testfleet_runs_completed_total{result="failed"} 1)"));
  CHECK(has(text, "testfleet_runs_in_progress 3"));
  CHECK(has(text, "testfleet_ingest_lag_seconds_count 2"));
  CHECK(has(text, "testfleet_ingest_lag_seconds_sum 1.5"));
  CHECK(has(text, "testfleet_run_duration_seconds_count 2"));
}
