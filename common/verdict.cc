#include "common/verdict.h"

namespace testfleet {

std::string_view verdictName(v1::Verdict v) {
  switch (v) {
    case v1::PASSED: return "passed";
    case v1::FAILED: return "failed";
    case v1::SKIPPED: return "skipped";
    case v1::FLAKY: return "flaky";
    case v1::TIMEOUT: return "timeout";
    case v1::OOM: return "oom";
    case v1::CRASHED: return "crashed";
    case v1::ERROR: return "error";
    default: return "unspecified";
  }
}

std::optional<v1::Verdict> verdictFromName(std::string_view name) {
  for (int v = v1::PASSED; v <= v1::ERROR; ++v) {
    if (verdictName(static_cast<v1::Verdict>(v)) == name) return static_cast<v1::Verdict>(v);
  }
  return std::nullopt;
}

bool isFailing(v1::Verdict v) {
  return v != v1::PASSED && v != v1::SKIPPED && v != v1::FLAKY;
}

}  // namespace testfleet
