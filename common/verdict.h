// Verdicts: their names, and the rules that decide what fails, what is FLAKY and whether a run passed. Every part
// that makes one of these decisions asks here; the store only counts evidence (see SqliteResultStore), the
// reports and the API print what these functions say.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "testfleet/v1/testfleet.pb.h"

namespace testfleet {

std::string_view verdictName(v1::Verdict v);  // "passed", "failed", … ("unspecified" for 0)
std::optional<v1::Verdict> verdictFromName(std::string_view name);

// The test did not pass: FAILED, TIMEOUT, OOM, CRASHED, ERROR (and an unspecified verdict). PASSED, SKIPPED,
// FLAKY (failed, then passed on rerun) and CANCELLED (its run was cancelled: final, never retried, neither a pass
// nor a failure, but it makes its run cancelled, see judgeRun) are not failing.
bool isFailing(v1::Verdict v);

// Whether an earlier attempt (of a job, or of a test case in it) with this verdict makes a later pass FLAKY: FAILED
// only. An ERROR attempt was the infrastructure's fault, not the test's.
bool makesFlaky(v1::Verdict earlier_attempt);

// A job's verdict from its final attempt: PASSED after an earlier attempt that makesFlaky is FLAKY; otherwise the
// final attempt's verdict.
v1::Verdict jobVerdict(v1::Verdict final_attempt, bool failed_before);

// Every verdict (unspecified included) for which `rule` holds, in enum order: for a store whose query must ask the
// same rule as the C++ (e.g. an SQL IN list).
std::vector<v1::Verdict> verdictsWhere(bool (*rule)(v1::Verdict));

// Whether a job or test case with this verdict fails its run: a failing verdict does, and FLAKY does when the
// suite sets flaky_fails_run.
bool failsRun(v1::Verdict v, bool flaky_fails_run);

// What is known of a run: the evidence its verdict is decided from.
struct RunTally {
  uint32_t expected_jobs = 0;  // the jobs its manifest lists
  bool complete = false;       // every listed job has a final result
  bool flaky_fails_run = false;
  std::map<v1::Verdict, uint32_t> jobs;  // listed jobs with a final result, by job verdict (jobVerdict)
};

struct RunVerdict {
  uint32_t jobs_done = 0;     // listed jobs with a final result
  uint32_t jobs_failing = 0;  // of those, the ones that fail the run (failsRun)
  bool cancelled = false;     // a job ended CANCELLED: the run was cancelled, and did not pass
  // Complete, with at least one job, every listed job done, none failing the run and none cancelled. A run with no
  // jobs did not pass: nothing was tested.
  bool passed = false;
};

RunVerdict judgeRun(const RunTally& run);

}  // namespace testfleet
