// The JSON view of a run, served by the API and written by `submit --json`.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "aggregator/reports/summary.h"

namespace testfleet::aggregator {

// Run header and progress (state, expected_jobs, jobs_done, jobs_failing, passed, summary).
nlohmann::json runHeaderJson(const RunInfo& run, const Summary& summary);
// The header plus every job with its cases, and the earlier attempts of jobs that were retried.
nlohmann::json runJson(const RunInfo& run, const Summary& summary, const std::vector<v1::Result>& results,
                       const std::vector<v1::Result>& attempts = {});

}  // namespace testfleet::aggregator
