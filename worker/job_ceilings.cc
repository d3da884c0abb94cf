#include "worker/job_ceilings.h"

#include <algorithm>

namespace testfleet::worker {
namespace {

// A portable environment variable name: letters, digits and '_', not starting with a digit, at most 256 bytes.
bool isVariableName(const std::string& name) {
  if (name.empty() || name.size() > 256 || (name[0] >= '0' && name[0] <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

template <typename T>
T lowered(T asked, T ceiling, const char* what, const std::string& unit, std::vector<std::string>& notes) {
  if (asked <= ceiling) return asked;
  notes.push_back(std::string(what) + " lowered from " + std::to_string(asked) + unit +
                  " to this worker's ceiling of " + std::to_string(ceiling) + unit);
  return ceiling;
}

}  // namespace

std::string applyCeilings(v1::Job& job, const JobDefaults& defaults, const JobCeilings& ceilings,
                          std::vector<std::string>& notes) {
  v1::Limits& limits = *job.mutable_limits();
  if (!limits.memory_bytes()) limits.set_memory_bytes(defaults.memory_bytes);
  if (!limits.max_pids()) limits.set_max_pids(defaults.max_pids);
  if (!limits.cpu_millis()) limits.set_cpu_millis(defaults.cpu_millis);
  if (!job.timeout_ms()) job.set_timeout_ms(static_cast<uint32_t>(defaults.timeout.count()));
  limits.set_memory_bytes(lowered<uint64_t>(limits.memory_bytes(), ceilings.memory_bytes, "memory", " bytes", notes));
  limits.set_max_pids(lowered<uint32_t>(limits.max_pids(), ceilings.max_pids, "max_pids", "", notes));
  limits.set_cpu_millis(lowered<uint32_t>(limits.cpu_millis(), ceilings.cpu_millis, "cpu", " millicores", notes));
  job.set_timeout_ms(
      lowered<uint32_t>(job.timeout_ms(), static_cast<uint32_t>(ceilings.timeout.count()), "timeout", " ms", notes));
  job.set_reruns(lowered<uint32_t>(job.reruns(), ceilings.reruns, "reruns", "", notes));

  size_t bytes = 0;
  for (const auto& [name, value] : job.env()) {
    if (!isVariableName(name)) {
      return "environment variable name '" + name.substr(0, 64) +
             "' is not valid (letters, digits and _, not starting with a digit, at most 256 bytes)";
    }
    if (value.find('\0') != std::string::npos) return "environment variable " + name + " holds a NUL byte";
    if (value.size() > ceilings.env_value_bytes) {
      return "environment variable " + name + " is " + std::to_string(value.size()) +
             " bytes; this worker takes at most " + std::to_string(ceilings.env_value_bytes) +
             " bytes a value (put large data in a file of the workspace)";
    }
    bytes += name.size() + value.size() + 2;
  }
  if (job.env_size() > static_cast<int>(ceilings.env_vars) || bytes > ceilings.env_bytes) {
    return "the job's environment has " + std::to_string(job.env_size()) + " variables of " + std::to_string(bytes) +
           " bytes; this worker takes at most " + std::to_string(ceilings.env_vars) + " variables of " +
           std::to_string(ceilings.env_bytes) + " bytes (put large data in a file of the workspace)";
  }
  return "";
}

}  // namespace testfleet::worker
