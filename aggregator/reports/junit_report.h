// The merged JUnit XML of a run: one <testsuite> per job, counts that match the summary.
// failures = FAILED cases; errors = TIMEOUT + OOM + CRASHED + ERROR cases; skipped = SKIPPED cases.
#pragma once

#include <string>
#include <vector>

#include "aggregator/storage/result_store.h"

namespace testfleet::aggregator {

std::string junitReport(const RunInfo& run, const std::vector<v1::Result>& results);

}  // namespace testfleet::aggregator
