// What a job may ask of this worker. Every limit in a Job record is untrusted (it arrives over Kafka, and a suite
// may say `memory: 1024Gi`), so the worker fills in its defaults where the job set none, lowers what is over its
// ceilings (saying so in a note that travels with the result), and refuses what cannot run at all. Pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "testfleet/v1/testfleet.pb.h"

namespace testfleet::worker {

struct JobDefaults {
  uint64_t memory_bytes = 2ull << 30;
  uint32_t max_pids = 1024;
  uint32_t cpu_millis = 1000;
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
};

struct JobCeilings {
  uint64_t memory_bytes = 8ull << 30;
  uint32_t max_pids = 16384;
  uint32_t cpu_millis = 64000;  // 1000 = one core
  std::chrono::milliseconds timeout{std::chrono::hours(1)};
  uint32_t reruns = 10;
  size_t env_vars = 1024;
  size_t env_bytes = 256 << 10;       // names and values together
  size_t env_value_bytes = 64 << 10;  // one value (the kernel refuses a single argument over 128 KiB)
};

// Applies defaults and ceilings to `job` in place; appends a note for each value it lowered. Returns why the job
// cannot run (a bad environment), or "".
std::string applyCeilings(v1::Job& job, const JobDefaults& defaults, const JobCeilings& ceilings,
                          std::vector<std::string>& notes);

}  // namespace testfleet::worker
