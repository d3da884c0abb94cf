// `testfleet-worker --run-suite SUITE`: runs a suite's jobs here, in the same sandbox the fleet uses, without Kafka,
// and prints each result as one JSON line (protobuf JSON of testfleet.v1.Result). For trying a suite locally and for
// the sandbox tests.
#pragma once

#include <filesystem>
#include <iosfwd>

#include "worker/job_executor.h"

namespace testfleet::worker {

// Returns 0 when every job passed, 1 when some did not, 2 when the suite is invalid.
int runSuiteLocally(const std::filesystem::path& suite_file, JobExecutor& runner, std::ostream& out);

// Runs raw Job records (one protobuf JSON object per line), exactly as they would arrive from Kafka, and prints each
// result as a JSON line: for testing what the worker does with hostile messages. Returns like runSuiteLocally.
int runJobsLocally(const std::filesystem::path& jobs_file, JobExecutor& runner, std::ostream& out);

}  // namespace testfleet::worker
