// A Sandbox built on bubblewrap: new user, pid, mount, network, ipc, uts and cgroup namespaces; read-only /usr;
// the workspace at /work; a size-limited tmpfs at /tmp; a clean environment; the seccomp filter; and, where the
// machine allows, a per-job cgroup (memory without swap, pids, CPU) joined before bubblewrap starts.
#pragma once

#include <filesystem>
#include <string>

#include "worker/sandbox/cgroup.h"
#include "worker/sandbox/sandbox.h"
#include "worker/sandbox/seccomp_filter.h"

namespace testfleet::worker {

struct BubblewrapSettings {
  std::filesystem::path bwrap = "/usr/bin/bwrap";
  std::filesystem::path stage_runner;  // host path of testfleet-stage-runner
  bool seccomp = true;
  // A host folder every job sees read-only at /cache (TESTFLEET_CACHE): dependencies prepared by the operator
  // (Go modules, wheels, npm tarballs) that setup commands and tests use offline. Empty = none.
  std::filesystem::path shared_cache;
};

class BubblewrapSandbox : public Sandbox {
 public:
  // cgroups may be null: jobs then run without resource limits (and results say so).
  BubblewrapSandbox(BubblewrapSettings settings, CgroupDriver* cgroups);
  SandboxOutcome run(const SandboxSpec& spec) override;
  bool isolated() const override { return true; }

  // Checks that bubblewrap exists and can create its namespaces here; returns what is wrong, or "" when usable.
  static std::string probe(const BubblewrapSettings& settings);

 private:
  BubblewrapSettings settings_;
  CgroupDriver* cgroups_;
  std::unique_ptr<SeccompProgram> seccomp_;
};

}  // namespace testfleet::worker
