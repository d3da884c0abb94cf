// Turns a validated suite into the run manifest and its jobs. Pure: no I/O, so it is tested without a broker.
#pragma once

#include <string>
#include <vector>

#include "producer/suite.h"
#include "testfleet/v1/testfleet.pb.h"

namespace testfleet::producer {

struct Plan {
  v1::RunManifest manifest;
  std::vector<v1::Job> jobs;
};

// job_id is derived from the test's name, so the same test gets the same id in every run (history attaches to it).
std::string jobIdFor(const std::string& test_name);

Plan planRun(const Suite& suite, const std::string& run_id, int64_t now_ms);

}  // namespace testfleet::producer
