// A Sandbox built on bubblewrap: new user, pid, mount, network, ipc, uts and cgroup namespaces; read-only /usr;
// the workspace at /work; a size-limited tmpfs at /tmp; a clean environment. Per-job cgroup limits and the
// seccomp filter are not applied yet (issue 4).
#pragma once

#include <filesystem>
#include <string>

#include "worker/sandbox/sandbox.h"

namespace testfleet::worker {

struct BubblewrapSettings {
  std::filesystem::path bwrap = "/usr/bin/bwrap";
  std::filesystem::path stage_runner;  // host path of testfleet-stage-runner
};

class BubblewrapSandbox : public Sandbox {
 public:
  explicit BubblewrapSandbox(BubblewrapSettings settings);
  SandboxOutcome run(const SandboxSpec& spec) override;
  bool isolated() const override { return true; }

  // Checks that bubblewrap exists and can create its namespaces here; returns what is wrong, or "" when usable.
  static std::string probe(const BubblewrapSettings& settings);

 private:
  BubblewrapSettings settings_;
};

}  // namespace testfleet::worker
