// Per-job control groups: memory (no swap), pids and CPU limits, usage evidence (peak memory, CPU time, OOM kills)
// and a kill of every task in the group. The child joins its group before it executes bubblewrap, so no process of
// the job ever runs outside it. cgroup v2 is used where its controllers are available, v1 otherwise; the worker's
// groups live in a subtree of its own (testfleet-<pid>) under the worker's current group, and nothing else is touched.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace testfleet::worker {

struct JobLimits {
  uint64_t memory_bytes = 0;  // 0: no limit
  uint32_t max_pids = 0;
  uint32_t cpu_millis = 0;  // 1000 = one core
};

struct CgroupUsage {
  uint64_t peak_memory_bytes = 0;
  uint64_t cpu_ns = 0;
  bool oom_killed = false;
};

// One job's group. Not thread-safe; owned by the slot running the job. The destructor kills what is left in it
// and removes it.
class JobCgroup {
 public:
  virtual ~JobCgroup() = default;
  // Files the child writes "0" to (its own pid) before exec; one per hierarchy.
  virtual std::vector<std::string> procsFiles() const = 0;
  virtual CgroupUsage usage() const = 0;
  // Kills every task in the group, including ones that left the process group or ignore SIGTERM.
  virtual void killAll() = 0;
};

using JobCgroupPtr = std::unique_ptr<JobCgroup>;

// Creates job groups. Thread-safe.
class CgroupDriver {
 public:
  virtual ~CgroupDriver() = default;
  virtual JobCgroupPtr create(const std::string& name, const JobLimits& limits) = 0;
  virtual std::string describe() const = 0;  // "cgroup v1 (memory, pids, cpu, cpuacct, freezer) under …"
};

using CgroupDriverPtr = std::unique_ptr<CgroupDriver>;

enum class CgroupMode { kAuto, kV2, kV1, kOff };

// The folder name of a job's group: `name` comes from a Kafka message, so only letters, digits, '_' and '-' of its
// first 40 bytes are kept (others become '_'), and a sequence number makes it unique. Never a path.
std::string cgroupLeafName(const std::string& name, uint64_t sequence);

// Detects what this machine allows. Returns nullptr and sets `why` when no usable hierarchy is writable.
CgroupDriverPtr detectCgroups(CgroupMode mode, std::string& why);

}  // namespace testfleet::worker
