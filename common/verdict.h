// Names of verdicts as they appear in reports, the API and metrics.
#pragma once

#include <optional>
#include <string_view>

#include "testfleet/v1/testfleet.pb.h"

namespace testfleet {

std::string_view verdictName(v1::Verdict v);  // "passed", "failed", … ("unspecified" for 0)
std::optional<v1::Verdict> verdictFromName(std::string_view name);
// A verdict that makes the run fail.
bool isFailing(v1::Verdict v);

}  // namespace testfleet
