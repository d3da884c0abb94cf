// A Sandbox that runs pytest jobs as fork()s of a warm zygote, and every other job through the cold sandbox it wraps.
//
// The zygote (zygote.py) is a Python process in a bubblewrap sandbox of its own (read-only root and /usr, its own
// namespaces, no network, no job's files, no seccomp filter: it must create namespaces) that has imported pytest and
// its plugins once. It never runs a test. For each job it forks a child that joins the job's cgroups (through
// cgroup.procs files the worker opened), enters a fresh user, pid, mount, network, ipc and uts namespace of its own,
// mounts fresh /proc, /tmp, /work (the job's files), /tf-out, /dev/shm and /dev/pts, drops every capability, sets
// the job's rlimit and environment, applies the worker's seccomp filter, and runs pytest.main in /work (or /bin/sh -c
// when the command is not a plain pytest call). testfleet-zygote-client stands for that child in runProcess, so the
// deadline, cancel, output limits and the stage runner's pipes work as for a cold job.
//
// Which jobs go to the zygote: framework pytest, no network, no setup, teardown or artifacts. Differences from a
// cold sandbox, by design of this first version: the job's processes run as the zygote's host uid (one past the
// slots' range when the worker is root), not the slot's own; memory the job shares copy-on-write with the zygote is
// charged to the zygote's group, not the job's; /tf (the job's scripts) is not mounted. When the zygote did not come
// up, every job runs cold and the log says why.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <mutex>
#include <optional>
#include <string>

#include "worker/sandbox/bubblewrap_sandbox.h"
#include "worker/sandbox/credentials.h"
#include "worker/sandbox/owned_fd.h"
#include "worker/sandbox/sandbox.h"

namespace testfleet::worker {

struct ZygoteSettings {
  std::filesystem::path script;          // zygote.py (built next to testfleet-worker)
  std::filesystem::path client;          // testfleet-zygote-client
  std::optional<Credentials> zygote_as;  // the zygote's host identity (when the worker is root)
};

class ZygoteSandbox : public Sandbox {
 public:
  // Starts the zygote and waits until it has imported pytest. `cold` runs the jobs the zygote does not take and
  // outlives this object; cgroups may be null.
  ZygoteSandbox(BubblewrapSettings bubblewrap, ZygoteSettings settings, Sandbox& cold, CgroupDriver* cgroups);
  ~ZygoteSandbox() override;
  SandboxOutcome run(const SandboxSpec& spec) override;
  bool isolated() const override { return true; }

  // Why jobs run cold, or "" while the zygote serves them.
  const std::string& problem() const { return problem_; }
  // Whether the zygote takes this job (the rule in the class comment).
  static bool takes(const SandboxSpec& spec);

 private:
  SandboxOutcome runForked(const SandboxSpec& spec);
  std::string start();

  BubblewrapSettings bubblewrap_;
  ZygoteSettings settings_;
  Sandbox& cold_;
  CgroupDriver* cgroups_;
  std::unique_ptr<SeccompProgram> seccomp_;
  std::unique_ptr<SandboxUids> uids_;  // the slots' uids for the client, as BubblewrapSandbox leases them
  std::string problem_;
  pid_t zygote_ = -1;
  std::mutex control_mu_;  // guards writes to control_ (one job socket per message)
  OwnedFd control_;        // SOCK_SEQPACKET to the zygote
};

}  // namespace testfleet::worker
