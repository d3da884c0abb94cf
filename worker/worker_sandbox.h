// The sandbox a worker runs every job in, chosen once at start: bubblewrap (after probing that it works here) or,
// only when told, no isolation; wrapped in a fault injector for chaos tests of retries; per-job limits through the
// cgroup driver this machine allows, or none (results then say limits_enforced=false).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "worker/http/status_server.h"
#include "worker/sandbox/bubblewrap_sandbox.h"
#include "worker/sandbox/cgroup.h"
#include "worker/sandbox/sandbox.h"
#include "worker/sandbox/zygote_sandbox.h"

namespace testfleet::worker {

struct SandboxOptions {
  BubblewrapSettings bubblewrap;  // its work_root is where job folders are made; created here
  bool unsandboxed = false;       // run tests WITHOUT isolation (recorded in every result)
  CgroupMode cgroups = CgroupMode::kAuto;
  double fault_probability = 0;  // fail this fraction of sandbox set-ups on purpose
  bool zygotes = false;          // pytest jobs as forks of a warm zygote (zygote_sandbox.h)
  ZygoteSettings zygote;         // its script and client (next to the worker by default)
};

struct WorkerSandbox {
  CgroupDriverPtr cgroups;  // null: per-job limits are not enforced, for the reason in no_cgroups
  std::string no_cgroups;
  SandboxPtr sandbox;
  SandboxPtr zygotes;  // wraps *sandbox when pytest jobs are forked from a zygote
  SandboxPtr faulty;   // wraps the above when faults are injected

  Sandbox& jobs() { return faulty ? *faulty : zygotes ? *zygotes : *sandbox; }
  // What /readyz says about this worker's isolation.
  WorkerFacts facts(const std::string& worker_id, int slots, const SandboxOptions& options) const;
};

// Builds the sandbox `options` ask for and says what it chose in the log. nullopt (after a critical log line saying
// why) when the worker must not start: bubblewrap cannot isolate jobs here, or the work folder cannot be made.
std::optional<WorkerSandbox> makeWorkerSandbox(const SandboxOptions& options);

}  // namespace testfleet::worker
