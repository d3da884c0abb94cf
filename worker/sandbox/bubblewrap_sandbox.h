// A Sandbox built on bubblewrap: new user, pid, mount, network, ipc, uts and cgroup namespaces; read-only /usr;
// size-limited tmpfs folders for /work (filled from the job's files), /tmp and /tf-out (the framework's report);
// a clean environment; the seccomp filter; and, where the machine allows, a per-job cgroup (memory without swap,
// pids, CPU) joined before bubblewrap starts.
//
// Run by root, it never runs a job as root: bubblewrap itself starts as a uid/gid of the job's own from a dedicated
// range (SandboxUids), so the host's root is not mapped inside and nothing the test writes is privileged on the host.
// The job's folders reach the sandbox as open file descriptors, so that uid needs no access to the worker's disk.
// network: true jobs get a network namespace of their own with outbound access through slirp4netns (UserNetwork).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "worker/sandbox/cgroup.h"
#include "worker/sandbox/memory_file.h"
#include "worker/sandbox/sandbox.h"
#include "worker/sandbox/sandbox_uids.h"
#include "worker/sandbox/seccomp_filter.h"

namespace testfleet::worker {

struct BubblewrapSettings {
  std::filesystem::path bwrap = "/usr/bin/bwrap";
  std::filesystem::path stage_runner;  // host path of testfleet-stage-runner
  bool seccomp = true;
  // A host folder every job sees read-only at /cache (TESTFLEET_CACHE): dependencies prepared by the operator
  // (Go modules, wheels, npm tarballs) that setup commands and tests use offline. Empty = none.
  std::filesystem::path shared_cache;
  std::filesystem::path slirp4netns = "/usr/bin/slirp4netns";
  std::filesystem::path work_root;  // where job folders are made: probe() checks the jobs' uid can reach it
  // As root: jobs run as uids [sandbox_uid, sandbox_uid + sandbox_uids), one per job running at once.
  uid_t sandbox_uid = 2000000000;
  size_t sandbox_uids = 1;
};

// bubblewrap's command line up to the job's own folders: namespaces, no capabilities, uid 1000, read-only /usr,
// /proc and /dev. ZygoteSandbox starts its zygote with it too.
std::vector<std::string> bubblewrapBaseArgs(const BubblewrapSettings& settings);

// A job's clean environment: a few variables of ours (TESTFLEET_CACHE when the shared cache is mounted at /cache),
// then the job's own, which may override them.
std::map<std::string, std::string> jobEnvironment(const SandboxSpec& spec, bool cache);

// Ends what is left in the job's cgroup and takes the usage it measured into the outcome.
void recordCgroupUsage(JobCgroup& cgroup, SandboxOutcome& out);

class BubblewrapSandbox : public Sandbox {
 public:
  // cgroups may be null: jobs then run without resource limits (and results say so).
  BubblewrapSandbox(BubblewrapSettings settings, CgroupDriver* cgroups);
  SandboxOutcome run(const SandboxSpec& spec) override;
  bool isolated() const override { return true; }

  // Checks that bubblewrap exists and can create its namespaces here, as the uid jobs will run as; returns what is
  // wrong, or "" when usable.
  static std::string probe(const BubblewrapSettings& settings);
  // Why network: true jobs cannot run here, or "" when they can.
  const std::string& networkProblem() const { return network_problem_; }

 private:
  BubblewrapSettings settings_;
  CgroupDriver* cgroups_;
  std::unique_ptr<SeccompProgram> seccomp_;
  MemoryFile stage_runner_;  // a copy, handed to each sandbox as data: no path of the worker's needs to be reachable
  std::unique_ptr<SandboxUids> uids_;  // null when the worker is not root: jobs then run as the worker's own uid
  std::string network_problem_;
};

}  // namespace testfleet::worker
