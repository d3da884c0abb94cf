// Flaky tests: a job whose final attempt passed after earlier attempts failed is FLAKY, and so is each test case
// that failed in an earlier attempt and passed in the final one. The earlier failure is kept on the case
// (message, details, type and its own output) so reports can show it (JUnit: <flakyFailure>, as Maven Surefire
// writes it).
#pragma once

#include <vector>

#include "testfleet/v1/testfleet.pb.h"

namespace testfleet::aggregator {

// finals: the final result of each job; attempts: every stored attempt of the run (any order).
void markFlaky(std::vector<v1::Result>& finals, const std::vector<v1::Result>& attempts);

}  // namespace testfleet::aggregator
