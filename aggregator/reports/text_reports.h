// Human reports of a run: a Markdown summary fit for $GITHUB_STEP_SUMMARY, and a single-file HTML report
// (summary first, then failures with messages and output, flaky tests, slowest tests and a duration chart).
#pragma once

#include <string>
#include <vector>

#include "aggregator/reports/summary.h"

namespace testfleet::aggregator {

std::string markdownReport(const RunInfo& run, const Summary& summary, const std::vector<v1::Result>& results);
std::string htmlReport(const RunInfo& run, const Summary& summary, const std::vector<v1::Result>& results);

}  // namespace testfleet::aggregator
