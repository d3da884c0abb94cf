#include <doctest/doctest.h>

#include "common/verdict.h"

using namespace testfleet;

TEST_CASE("failing verdicts; FLAKY fails a run only when the suite says so") {
  for (auto v : {v1::FAILED, v1::TIMEOUT, v1::OOM, v1::CRASHED, v1::ERROR}) {
    CHECK(isFailing(v));
    CHECK(failsRun(v, false));
  }
  for (auto v : {v1::PASSED, v1::SKIPPED, v1::FLAKY}) CHECK_FALSE(isFailing(v));
  CHECK_FALSE(failsRun(v1::FLAKY, false));
  CHECK(failsRun(v1::FLAKY, true));
  CHECK_FALSE(failsRun(v1::PASSED, true));
}

TEST_CASE("a job that passed after an earlier attempt failed is FLAKY; nothing else changes") {
  CHECK(jobVerdict(v1::PASSED, true) == v1::FLAKY);
  CHECK(jobVerdict(v1::PASSED, false) == v1::PASSED);
  CHECK(jobVerdict(v1::FAILED, true) == v1::FAILED);
  CHECK(jobVerdict(v1::SKIPPED, true) == v1::SKIPPED);
}

TEST_CASE("a run passed when complete, with jobs, every job done and none failing the run") {
  RunTally run{2, true, false, {{v1::PASSED, 1}, {v1::SKIPPED, 1}}};
  RunVerdict v = judgeRun(run);
  CHECK(v.passed);
  CHECK(v.jobs_done == 2);
  CHECK(v.jobs_failing == 0);

  run.jobs = {{v1::PASSED, 1}, {v1::FLAKY, 1}};
  CHECK(judgeRun(run).passed);
  run.flaky_fails_run = true;
  CHECK_FALSE(judgeRun(run).passed);
  CHECK(judgeRun(run).jobs_failing == 1);

  CHECK_FALSE(judgeRun({2, false, false, {{v1::PASSED, 2}}}).passed);  // still running
  CHECK_FALSE(judgeRun({2, true, false, {{v1::PASSED, 1}}}).passed);   // a job without a result
  CHECK_FALSE(judgeRun({2, true, false, {{v1::PASSED, 1}, {v1::OOM, 1}}}).passed);
  CHECK_FALSE(judgeRun({0, true, false, {}}).passed);  // no jobs: nothing was tested
}

TEST_CASE("only a FAILED earlier attempt makes a later pass FLAKY; verdictsWhere lists a rule's verdicts") {
  CHECK(makesFlaky(v1::FAILED));
  for (auto v : {v1::PASSED, v1::SKIPPED, v1::FLAKY, v1::TIMEOUT, v1::OOM, v1::CRASHED, v1::ERROR}) {
    CHECK_FALSE(makesFlaky(v));
  }
  CHECK(verdictsWhere(makesFlaky) == std::vector<v1::Verdict>{v1::FAILED});
  CHECK(verdictsWhere(isFailing) ==
        std::vector<v1::Verdict>{v1::VERDICT_UNSPECIFIED, v1::FAILED, v1::TIMEOUT, v1::OOM, v1::CRASHED, v1::ERROR});
}

TEST_CASE("CANCELLED is final and neither a pass nor a failure, but a run with a cancelled job did not pass") {
  CHECK_FALSE(isFailing(v1::CANCELLED));
  CHECK_FALSE(failsRun(v1::CANCELLED, true));
  CHECK_FALSE(makesFlaky(v1::CANCELLED));
  CHECK(jobVerdict(v1::CANCELLED, true) == v1::CANCELLED);
  CHECK(verdictName(v1::CANCELLED) == "cancelled");
  CHECK(verdictFromName("cancelled") == v1::CANCELLED);

  const RunVerdict v = judgeRun({2, true, false, {{v1::PASSED, 1}, {v1::CANCELLED, 1}}});
  CHECK(v.cancelled);
  CHECK_FALSE(v.passed);
  CHECK(v.jobs_done == 2);
  CHECK(v.jobs_failing == 0);
  CHECK_FALSE(judgeRun({2, true, false, {{v1::PASSED, 2}}}).cancelled);
}
