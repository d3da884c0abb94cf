#include "worker/sandbox/bubblewrap_sandbox.h"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstring>
#include <optional>
#include <sstream>

#include "worker/sandbox/owned_fd.h"
#include "worker/sandbox/process.h"
#include "worker/sandbox/stage_runner_fds.h"
#include "worker/sandbox/stage_runner_outcome.h"
#include "worker/sandbox/user_network.h"

namespace testfleet::worker {
namespace {

// The fd numbers bubblewrap finds its pipes and folders at (the stage runner's own: stage_runner_fds.h; bubblewrap's
// JSON status, {"child-pid": N} once set up, comes at kIsolationStatus).
constexpr int kBwrapStatusFd = stage_runner_fds::kIsolationStatus;
constexpr int kSeccompFd = 6;
constexpr int kGateFd = 7;  // network jobs: bubblewrap waits here until the network is up
constexpr int kWorkspaceFd = 8, kControlFd = 9, kStageRunnerFd = 10, kCacheFd = 11, kResolvConfFd = 12,
              kEnvironmentFd = 13;

}  // namespace

std::vector<std::string> bubblewrapBaseArgs(const BubblewrapSettings& s) {
  return {
      s.bwrap.string(),
      "--die-with-parent",
      "--new-session",
      "--unshare-all",
      "--cap-drop",
      "ALL",
      "--uid",
      "1000",
      "--gid",
      "1000",
      "--hostname",
      "testfleet",
      "--ro-bind",
      "/usr",
      "/usr",
      "--symlink",
      "usr/bin",
      "/bin",
      "--symlink",
      "usr/sbin",
      "/sbin",
      "--symlink",
      "usr/lib",
      "/lib",
      "--symlink",
      "usr/lib64",
      "/lib64",
      "--ro-bind-try",
      "/etc/alternatives",
      "/etc/alternatives",
      "--ro-bind-try",
      "/etc/ld.so.cache",
      "/etc/ld.so.cache",
      "--ro-bind-try",
      "/etc/localtime",
      "/etc/localtime",
      "--proc",
      "/proc",
      "--dev",
      "/dev",
  };
}

namespace {

// bubblewrap writes {"child-pid": N, …} once the sandbox is set up; without it, the set-up failed.
std::optional<pid_t> childPid(const std::string& status) {
  std::istringstream lines(status);
  std::string line;
  while (std::getline(lines, line)) {
    auto doc = nlohmann::json::parse(line, nullptr, false);
    if (doc.is_object() && doc.contains("child-pid") && doc["child-pid"].is_number_integer()) {
      return doc["child-pid"].get<pid_t>();
    }
  }
  return std::nullopt;
}

// A path handed to bubblewrap as an open O_PATH descriptor: the sandbox's uid needs no access to the worker's
// folders, and the path cannot be swapped between the check and the mount.
OwnedFd openPath(const std::filesystem::path& path) { return OwnedFd(::open(path.c_str(), O_PATH | O_CLOEXEC)); }

// A pipe whose read end holds `data` (small: it fits the pipe buffer) and then ends.
OwnedFd dataPipe(const std::string& data) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return OwnedFd();
  bool ok = ::write(fds[1], data.data(), data.size()) == static_cast<ssize_t>(data.size());
  ::close(fds[1]);
  if (!ok) {
    ::close(fds[0]);
    return OwnedFd();
  }
  return OwnedFd(fds[0]);
}

SandboxOutcome setupFailure(SandboxOutcome::End end, std::string why) {
  SandboxOutcome out;
  out.end = end;
  out.setup_error = std::move(why);
  return out;
}

// /tmp and the job's folders inside the sandbox, from the descriptors run() hands down (kWorkspaceFd, kControlFd,
// kStageRunnerFd).
void addJobFolders(std::vector<std::string>& args, const SandboxSpec& spec) {
  args.insert(args.end(), {"--size", std::to_string(spec.tmp_bytes), "--tmpfs", "/tmp"});
  // /work is a tmpfs of bounded size inside the sandbox (it counts against the job's memory limit); the stage
  // runner fills it from the job's files, bound read-only, so the test never writes to the worker's disk. /tf-out,
  // where the framework writes its report, is one too: the stage runner sends its contents back over a pipe.
  args.insert(args.end(), {"--ro-bind-fd", std::to_string(kWorkspaceFd), "/tf-src"});
  args.insert(args.end(), {"--size", std::to_string(spec.workspace_bytes), "--perms", "0777", "--tmpfs", "/work"});
  args.insert(args.end(), {"--ro-bind-fd", std::to_string(kControlFd), "/tf"});
  args.insert(args.end(), {"--size", std::to_string(spec.out_bytes), "--perms", "0777", "--tmpfs", "/tf-out"});
  args.insert(args.end(),
              {"--perms", "0555", "--ro-bind-data", std::to_string(kStageRunnerFd), "/tf-bin/stage-runner"});
}

// Binds an open folder at `target`, through the descriptor number bubblewrap inherits it at.
void bindFolder(std::vector<std::string>& args, ProcessSpec& ps, int number, int fd, bool writable,
                const char* target) {
  ps.inherit_fds.push_back({number, fd});
  args.insert(args.end(), {writable ? "--bind-fd" : "--ro-bind-fd", std::to_string(number), target});
}

}  // namespace

std::map<std::string, std::string> jobEnvironment(const SandboxSpec& spec, bool cache) {
  std::map<std::string, std::string> env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"},
                                            {"HOME", "/tmp"},
                                            {"TMPDIR", "/tmp"},
                                            {"LANG", "C.UTF-8"},
                                            {"TESTFLEET", "1"},
                                            {"TF_OUT", "/tf-out"}};
  if (cache) env["TESTFLEET_CACHE"] = "/cache";
  for (const auto& [k, v] : spec.env) env[k] = v;
  return env;
}

void recordCgroupUsage(JobCgroup& cgroup, SandboxOutcome& out) {
  cgroup.killAll();  // anything that escaped the process group (setsid, double fork) ends with the job
  CgroupUsage usage = cgroup.usage();
  out.limits_enforced = true;
  out.oom_killed = usage.oom_killed;
  if (usage.peak_memory_bytes) out.peak_memory_bytes = usage.peak_memory_bytes;
  if (usage.cpu_ns) out.cpu_ms = static_cast<uint32_t>(usage.cpu_ns / 1000000);
}

BubblewrapSandbox::BubblewrapSandbox(BubblewrapSettings settings, CgroupDriver* cgroups)
    : settings_(std::move(settings)), cgroups_(cgroups), stage_runner_(MemoryFile::copyOf(settings_.stage_runner)) {
  if (settings_.seccomp) seccomp_ = std::make_unique<SeccompProgram>();
  if (::geteuid() == 0) uids_ = std::make_unique<SandboxUids>(settings_.sandbox_uid, settings_.sandbox_uids);
  network_problem_ = UserNetwork::probe(settings_.slirp4netns);
}

SandboxOutcome BubblewrapSandbox::run(const SandboxSpec& spec) {
  using End = SandboxOutcome::End;
  if (spec.network && !network_problem_.empty()) {
    return setupFailure(End::kRefused, "this worker cannot give jobs a network (network: true): " + network_problem_);
  }
  std::optional<SandboxUids::Lease> lease;
  std::optional<Credentials> run_as;
  if (uids_) {
    lease.emplace(uids_->acquire());
    run_as = Credentials{lease->uid(), lease->uid()};
  }
  OwnedFd workspace = openPath(spec.workspace), control = openPath(spec.control),
          stage_runner(stage_runner_.openForChild());
  OwnedFd cache = settings_.shared_cache.empty() ? OwnedFd() : openPath(settings_.shared_cache);
  OwnedFd environment = spec.environment.empty() ? OwnedFd() : openPath(spec.environment);
  if (workspace.get() < 0 || control.get() < 0 || stage_runner.get() < 0 ||
      (!settings_.shared_cache.empty() && cache.get() < 0) || (!spec.environment.empty() && environment.get() < 0)) {
    return setupFailure(End::kSetupFailed, std::string("cannot open the job's folders: ") + std::strerror(errno));
  }
  ProcessSpec ps;
  ps.inherit_fds = {{kWorkspaceFd, workspace.get()}, {kControlFd, control.get()}, {kStageRunnerFd, stage_runner.get()}};
  std::vector<std::string> args = bubblewrapBaseArgs(settings_);
  OwnedFd resolv_conf;
  if (spec.network) {
    for (const char* f : {"/etc/hosts", "/etc/ssl", "/etc/ca-certificates"}) {
      args.insert(args.end(), {"--ro-bind-try", f, f});
    }
    resolv_conf = dataPipe(UserNetwork::kResolvConf);
    ps.inherit_fds.push_back({kResolvConfFd, resolv_conf.get()});
    args.insert(args.end(), {"--ro-bind-data", std::to_string(kResolvConfFd), "/etc/resolv.conf"});
    args.insert(args.end(), {"--block-fd", std::to_string(kGateFd)});
  }
  addJobFolders(args, spec);
  if (cache.get() >= 0) bindFolder(args, ps, kCacheFd, cache.get(), false, "/cache");
  if (environment.get() >= 0)
    bindFolder(args, ps, kEnvironmentFd, environment.get(), spec.environment_writable, "/env");
  args.insert(args.end(), {"--chdir", "/work", "--clearenv"});
  for (const auto& [k, v] : jobEnvironment(spec, cache.get() >= 0)) args.insert(args.end(), {"--setenv", k, v});
  OwnedFd seccomp;
  if (seccomp_) {
    seccomp = OwnedFd(seccomp_->openForChild());
    if (seccomp.get() < 0) return setupFailure(End::kSetupFailed, "cannot open the seccomp program");
    ps.inherit_fds.push_back({kSeccompFd, seccomp.get()});
    args.insert(args.end(), {"--seccomp", std::to_string(kSeccompFd)});
  }
  args.insert(args.end(), {"--json-status-fd", std::to_string(kBwrapStatusFd), "--", "/tf-bin/stage-runner", "/work",
                           "/tf", "/tf-src", std::to_string(spec.artifact_bytes), std::to_string(spec.report_bytes),
                           std::to_string(spec.timeout.count()), "sandboxed"});
  JobCgroupPtr cgroup = cgroups_ ? cgroups_->create(spec.name, spec.limits) : nullptr;
  if (cgroup) ps.join_files = cgroup->procsFiles();
  std::unique_ptr<UserNetwork> network;
  if (spec.network) {
    ps.gate.fd = kGateFd;
    ps.gate.decide = [&](const std::string& status, std::string& why) {
      auto pid = childPid(status);
      if (!pid) return ProcessGate::Answer::kWait;
      network = UserNetwork::attach(settings_.slirp4netns, *pid, run_as, ps.join_files, why);
      return network ? ProcessGate::Answer::kOpen : ProcessGate::Answer::kRefuse;
    };
  }
  ps.run_as = run_as;
  ps.max_file_bytes = spec.max_file_bytes;
  ps.output_kill_bytes = spec.output_kill_bytes;
  ps.argv = std::move(args);
  ps.env = {"PATH=/usr/bin:/bin"};
  ps.status_pipes = stageRunnerPipes(64 << 10, spec.report_bytes + spec.artifact_bytes + (8 << 20));
  ps.timeout = spec.timeout.count() > 0 ? spec.timeout + kWorkerDeadlineGrace : spec.timeout;
  ps.output_limit = spec.output_limit;
  ps.cancel = spec.cancel;
  ProcessOutcome po = runProcess(ps);
  network.reset();
  std::string unset_up;
  if (!childPid(po.status_text.empty() ? "" : po.status_text[0])) {
    unset_up = "bubblewrap could not set up the sandbox: " + po.stderr_text;
  }
  SandboxOutcome out = stageRunnerOutcome(std::move(po), std::move(unset_up));
  if (cgroup) recordCgroupUsage(*cgroup, out);
  lease.reset();
  return out;
}

std::string BubblewrapSandbox::probe(const BubblewrapSettings& settings) {
  std::error_code ec;
  if (!std::filesystem::exists(settings.bwrap, ec)) {
    return "bubblewrap is not installed at " + settings.bwrap.string() + " (apt-get install bubblewrap)";
  }
  if (!std::filesystem::exists(settings.stage_runner, ec)) {
    return "testfleet-stage-runner is missing at " + settings.stage_runner.string() +
           " (it is built next to testfleet-worker)";
  }
  ProcessSpec ps;
  if (::geteuid() == 0) {
    if (std::string problem = SandboxUids::probe(settings.sandbox_uid, settings.sandbox_uids); !problem.empty()) {
      return "jobs cannot run under their own uids: " + problem;
    }
    ps.run_as = Credentials{settings.sandbox_uid, settings.sandbox_uid};
    for (const auto& folder : {settings.work_root, settings.shared_cache}) {
      if (folder.empty()) continue;
      if (std::string blocked = SandboxUids::blockedOnTheWay(settings.sandbox_uid, folder); !blocked.empty()) {
        return "jobs run as uid " + std::to_string(settings.sandbox_uid) + ", which cannot reach " + folder.string() +
               ": " + blocked + " does not let others pass (chmod o+x " + blocked +
               ", or choose a --work-dir whose folders do)";
      }
    }
  }
  ps.argv = bubblewrapBaseArgs(settings);
  ps.argv.insert(ps.argv.end(), {"--", "/bin/true"});
  ps.env = {"PATH=/usr/bin:/bin"};
  ps.timeout = std::chrono::seconds(10);
  ProcessOutcome po = runProcess(ps);
  if (!po.started || po.exit_code != 0) {
    return "bubblewrap cannot create namespaces here (" + (po.started ? po.stderr_text : po.spawn_error) +
           "). Enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, "
           "user.max_user_namespaces > 0) or, on Kubernetes, allow them in the pod's securityContext; "
           "or start the worker with --unsandboxed to run tests without isolation";
  }
  return "";
}

}  // namespace testfleet::worker
