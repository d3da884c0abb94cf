// The seam between the worker and process isolation. A Sandbox runs one command to completion, isolated,
// bounded in time and output, and reports what happened as a value (never by throwing for the test's sake).
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "worker/sandbox/cgroup.h"
#include "worker/sandbox/collected_output.h"

namespace testfleet::worker {

struct SandboxSpec {
  std::filesystem::path workspace;  // host folder with the job's files; copied into the sandbox's /work
  std::filesystem::path control;    // host folder, read-only, mounted at /tf (scripts the stage runner runs)
  // $TF_OUT, where the framework writes its report. A sandbox gives the test a tmpfs of out_bytes there and never
  // lets it write to the worker's disk; only the unsandboxed runner uses this host folder.
  std::filesystem::path output;
  uint64_t out_bytes = 64ull << 20;
  size_t report_bytes = 16 << 20;          // the framework's report is read back up to this size
  std::map<std::string, std::string> env;  // added to a clean environment
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
  size_t output_limit = 1 << 20;  // per stream, head and tail kept
  uint64_t tmp_bytes = 256ull << 20;
  uint64_t workspace_bytes = 1ull << 30;  // /work is a tmpfs of this size, filled from `workspace` (read-only)
  bool network = false;
  // A prepared environment (a host folder) the job sees at /env: read-only, or writable for the step that prepares
  // it. Empty = none. The unsandboxed runner mounts nothing: its jobs are given the host path instead.
  std::filesystem::path environment;
  bool environment_writable = false;
  JobLimits limits;              // applied through a per-job cgroup where the machine allows
  uint64_t max_file_bytes = 0;   // no single file may grow past this (RLIMIT_FSIZE); 0 = no limit
  size_t output_kill_bytes = 0;  // output past this kills the job as a flood; 0 = never
  uint64_t artifact_bytes = 0;   // workspace files matching control/artifacts.txt, at most this much in all
  std::string framework;         // the adapter's name ("pytest"), for sandboxes that treat some frameworks apart
  std::string name = "job";      // for the cgroup's name (any bytes: the driver makes it safe)
  const std::atomic<bool>* cancel = nullptr;  // set by another thread to stop the run early
};

struct SandboxOutcome {
  // kSetupFailed: the infrastructure failed (transient); kRefused: this worker cannot run such a job (e.g. it
  // cannot give it a network) and says why in setup_error.
  enum class End { kExited, kSignaled, kTimedOut, kCancelled, kSetupFailed, kFlooded, kRefused };
  End end = End::kExited;
  int exit_code = 0;
  int signal = 0;
  std::string stdout_text;  // bounded: head and tail
  std::string stderr_text;
  std::string setup_error;    // kSetupFailed: why the sandbox could not start
  std::string stage_report;   // what the stage runner wrote: one "<stage> exit|signal|timeout <n>" line per stage
  CollectedOutput collected;  // the report and artifacts the stage runner sent back
  std::chrono::milliseconds wall{0};
  uint32_t cpu_ms = 0;
  uint64_t peak_memory_bytes = 0;
  bool oom_killed = false;       // the memory controller killed a process of the job
  bool limits_enforced = false;  // a cgroup held the job
};

// Runs the stage runner (setup → test → teardown from spec.control) inside an isolated environment.
// Thread-safe: run() may be called from several slot threads at once.
class Sandbox {
 public:
  virtual ~Sandbox() = default;
  virtual SandboxOutcome run(const SandboxSpec& spec) = 0;
  // Whether results from this sandbox are isolated (false only for the explicit unsandboxed mode).
  virtual bool isolated() const = 0;
};

using SandboxPtr = std::unique_ptr<Sandbox>;

}  // namespace testfleet::worker
