// The merged JUnit XML of a run: one <testsuite> per job, counts that match the summary. Valid against both the
// Jenkins xUnit plugin's junit-10.xsd and (each <testsuite> on its own) Maven Surefire's report schema 3.0
// (tests/data/junit), so it leaves out what either forbids: testsuites@skipped, testsuite@timestamp and @hostname
// (properties instead), suite-level output, testcase@file and @line (in the failure body instead).
// failures = FAILED cases by an assertion; errors = FAILED by an error (errored) + TIMEOUT + OOM + CRASHED + ERROR
// cases; skipped = SKIPPED cases.
#pragma once

#include <string>
#include <vector>

#include "aggregator/storage/result_store.h"

namespace testfleet::aggregator {

std::string junitReport(const RunInfo& run, const std::vector<v1::Result>& results);

}  // namespace testfleet::aggregator
