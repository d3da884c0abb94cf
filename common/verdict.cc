#include "common/verdict.h"

namespace testfleet {

std::string_view verdictName(v1::Verdict v) {
  switch (v) {
    case v1::PASSED:
      return "passed";
    case v1::FAILED:
      return "failed";
    case v1::SKIPPED:
      return "skipped";
    case v1::FLAKY:
      return "flaky";
    case v1::TIMEOUT:
      return "timeout";
    case v1::OOM:
      return "oom";
    case v1::CRASHED:
      return "crashed";
    case v1::ERROR:
      return "error";
    case v1::CANCELLED:
      return "cancelled";
    default:
      return "unspecified";
  }
}

std::optional<v1::Verdict> verdictFromName(std::string_view name) {
  for (int v = v1::PASSED; v <= v1::Verdict_MAX; ++v) {
    if (verdictName(static_cast<v1::Verdict>(v)) == name) return static_cast<v1::Verdict>(v);
  }
  return std::nullopt;
}

bool isFailing(v1::Verdict v) { return v != v1::PASSED && v != v1::SKIPPED && v != v1::FLAKY && v != v1::CANCELLED; }

bool makesFlaky(v1::Verdict earlier_attempt) { return earlier_attempt == v1::FAILED; }

std::vector<v1::Verdict> verdictsWhere(bool (*rule)(v1::Verdict)) {
  std::vector<v1::Verdict> out;
  for (int v = v1::Verdict_MIN; v <= v1::Verdict_MAX; ++v) {
    if (v1::Verdict_IsValid(v) && rule(static_cast<v1::Verdict>(v))) out.push_back(static_cast<v1::Verdict>(v));
  }
  return out;
}

v1::Verdict jobVerdict(v1::Verdict final_attempt, bool failed_before) {
  return final_attempt == v1::PASSED && failed_before ? v1::FLAKY : final_attempt;
}

bool failsRun(v1::Verdict v, bool flaky_fails_run) { return isFailing(v) || (flaky_fails_run && v == v1::FLAKY); }

RunVerdict judgeRun(const RunTally& run) {
  RunVerdict out;
  for (const auto& [verdict, jobs] : run.jobs) {
    out.jobs_done += jobs;
    if (failsRun(verdict, run.flaky_fails_run)) out.jobs_failing += jobs;
    if (verdict == v1::CANCELLED && jobs > 0) out.cancelled = true;
  }
  out.passed = run.complete && run.expected_jobs > 0 && out.jobs_done >= run.expected_jobs && out.jobs_failing == 0 &&
               !out.cancelled;
  return out;
}

}  // namespace testfleet
