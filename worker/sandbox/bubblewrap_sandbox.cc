#include "worker/sandbox/bubblewrap_sandbox.h"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <sstream>

#include "worker/sandbox/process.h"

namespace testfleet::worker {
namespace {

// The fd numbers at which bubblewrap writes its JSON status and the stage runner its stage lines.
constexpr int kBwrapStatusFd = 3;
constexpr int kStageStatusFd = 4;
constexpr int kSeccompFd = 5;

std::vector<std::string> baseArgs(const BubblewrapSettings& s) {
  return {
      s.bwrap.string(), "--die-with-parent", "--new-session", "--unshare-all", "--cap-drop", "ALL",
      "--uid", "1000", "--gid", "1000", "--hostname", "testfleet",
      "--ro-bind", "/usr", "/usr",
      "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
      "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
      "--ro-bind-try", "/etc/alternatives", "/etc/alternatives",
      "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
      "--ro-bind-try", "/etc/localtime", "/etc/localtime",
      "--proc", "/proc", "--dev", "/dev",
  };
}

// bubblewrap writes {"child-pid": N} once the sandbox is set up; without it, the set-up failed.
bool sandboxStarted(const std::string& status) {
  std::istringstream lines(status);
  std::string line;
  while (std::getline(lines, line)) {
    auto doc = nlohmann::json::parse(line, nullptr, false);
    if (doc.is_object() && doc.contains("child-pid")) return true;
  }
  return false;
}

}  // namespace

BubblewrapSandbox::BubblewrapSandbox(BubblewrapSettings settings, CgroupDriver* cgroups)
    : settings_(std::move(settings)), cgroups_(cgroups) {
  if (settings_.seccomp) seccomp_ = std::make_unique<SeccompProgram>();
}

SandboxOutcome BubblewrapSandbox::run(const SandboxSpec& spec) {
  std::vector<std::string> args = baseArgs(settings_);
  if (spec.network) {
    args.push_back("--share-net");
    for (const char* f : {"/etc/resolv.conf", "/etc/hosts", "/etc/ssl", "/etc/ca-certificates"}) {
      args.insert(args.end(), {"--ro-bind-try", f, f});
    }
  }
  args.insert(args.end(), {"--size", std::to_string(spec.tmp_bytes), "--tmpfs", "/tmp"});
  // The workspace is a tmpfs of bounded size inside the sandbox (it counts against the job's memory limit); the
  // stage runner fills it from the job's files, bound read-only, so the test never writes to the worker's disk.
  args.insert(args.end(), {"--ro-bind", spec.workspace.string(), "/tf-src"});
  args.insert(args.end(), {"--size", std::to_string(spec.workspace_bytes), "--perms", "0777", "--tmpfs", "/work"});
  args.insert(args.end(), {"--ro-bind", spec.control.string(), "/tf"});
  args.insert(args.end(), {"--bind", spec.output.string(), "/tf-out"});
  args.insert(args.end(), {"--ro-bind", settings_.stage_runner.string(), "/tf-bin/stage-runner"});
  if (!settings_.shared_cache.empty()) args.insert(args.end(), {"--ro-bind", settings_.shared_cache.string(), "/cache"});
  args.insert(args.end(), {"--chdir", "/work", "--clearenv"});
  std::map<std::string, std::string> env = {
      {"PATH", "/usr/local/bin:/usr/bin:/bin"}, {"HOME", "/tmp"}, {"TMPDIR", "/tmp"},
      {"LANG", "C.UTF-8"}, {"TESTFLEET", "1"}, {"TF_OUT", "/tf-out"}};
  if (!settings_.shared_cache.empty()) env["TESTFLEET_CACHE"] = "/cache";
  for (const auto& [k, v] : spec.env) env[k] = v;
  for (const auto& [k, v] : env) args.insert(args.end(), {"--setenv", k, v});
  ProcessSpec ps;
  int seccomp_fd = -1;
  if (seccomp_) {
    seccomp_fd = seccomp_->openForChild();
    if (seccomp_fd < 0) {
      SandboxOutcome failed;
      failed.end = SandboxOutcome::End::kSetupFailed;
      failed.setup_error = "cannot open the seccomp program";
      return failed;
    }
    ps.inherit_fds.push_back({kSeccompFd, seccomp_fd});
    args.insert(args.end(), {"--seccomp", std::to_string(kSeccompFd)});
  }
  args.insert(args.end(), {"--json-status-fd", std::to_string(kBwrapStatusFd), "--", "/tf-bin/stage-runner", "/work",
                           "/tf", "/tf-src", std::to_string(spec.artifact_bytes)});
  JobCgroupPtr cgroup = cgroups_ ? cgroups_->create(spec.name, spec.limits) : nullptr;
  if (cgroup) ps.join_files = cgroup->procsFiles();
  ps.max_file_bytes = spec.max_file_bytes;
  ps.output_kill_bytes = spec.output_kill_bytes;
  ps.argv = std::move(args);
  ps.env = {"PATH=/usr/bin:/bin"};
  ps.status_fds = {kBwrapStatusFd, kStageStatusFd};
  ps.timeout = spec.timeout;
  ps.output_limit = spec.output_limit;
  ps.cancel = spec.cancel;
  ProcessOutcome po = runProcess(ps);
  if (seccomp_fd >= 0) ::close(seccomp_fd);

  SandboxOutcome out;
  out.wall = po.wall;
  out.cpu_ms = po.cpu_ms;
  out.peak_memory_bytes = po.max_rss_bytes;
  if (cgroup) {
    cgroup->killAll();  // anything that escaped the process group (setsid, double fork) ends with the job
    CgroupUsage usage = cgroup->usage();
    out.limits_enforced = true;
    out.oom_killed = usage.oom_killed;
    if (usage.peak_memory_bytes) out.peak_memory_bytes = usage.peak_memory_bytes;
    if (usage.cpu_ns) out.cpu_ms = static_cast<uint32_t>(usage.cpu_ns / 1000000);
  }
  out.stdout_text = std::move(po.stdout_text);
  out.stderr_text = std::move(po.stderr_text);
  out.exit_code = po.exit_code;
  out.signal = po.signal;
  out.stage_report = po.status_text.size() > 1 ? po.status_text[1] : "";
  if (!po.started) {
    out.end = SandboxOutcome::End::kSetupFailed;
    out.setup_error = po.spawn_error;
  } else if (po.timed_out) {
    out.end = SandboxOutcome::End::kTimedOut;
  } else if (po.cancelled) {
    out.end = SandboxOutcome::End::kCancelled;
  } else if (po.flooded) {
    out.end = SandboxOutcome::End::kFlooded;
  } else if (!sandboxStarted(po.status_text.empty() ? "" : po.status_text[0])) {
    out.end = SandboxOutcome::End::kSetupFailed;
    out.setup_error = "bubblewrap could not set up the sandbox: " + out.stderr_text;
  } else if (po.signal != 0) {
    out.end = SandboxOutcome::End::kSignaled;
  } else {
    out.end = SandboxOutcome::End::kExited;
  }
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
  ps.argv = baseArgs(settings);
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
