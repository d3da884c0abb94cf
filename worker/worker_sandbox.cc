#include "worker/worker_sandbox.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "worker/sandbox/fault_injecting_sandbox.h"
#include "worker/sandbox/unsandboxed_runner.h"

namespace testfleet::worker {
namespace fs = std::filesystem;
namespace {

bool makeWorkRoot(const fs::path& work_root) {
  std::error_code ec;
  fs::create_directories(work_root, ec);
  if (ec) {
    spdlog::critical("cannot create work dir {}: {}", work_root.string(), ec.message());
    return false;
  }
  // Sandboxes (as their own uids) pass through it to their job's folder, but need not list it.
  fs::permissions(work_root, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec, ec);
  return true;
}

SandboxPtr makeBubblewrap(const BubblewrapSettings& bw, CgroupDriver* cgroups) {
  if (std::string problem = BubblewrapSandbox::probe(bw); !problem.empty()) {
    spdlog::critical("refusing to start: {}", problem);
    return nullptr;
  }
  auto bubblewrap = std::make_unique<BubblewrapSandbox>(bw, cgroups);
  if (::geteuid() == 0) {
    spdlog::info("jobs run as host uids {}..{}, never as root", bw.sandbox_uid, bw.sandbox_uid + bw.sandbox_uids - 1);
  } else {
    spdlog::info("jobs run as this worker's own uid {} (run the worker as root to give each slot a uid of its own)",
                 ::geteuid());
  }
  if (!bubblewrap->networkProblem().empty()) {
    spdlog::warn("network: true jobs will fail here: {}", bubblewrap->networkProblem());
  }
  return bubblewrap;
}

// The pytest zygote around the cold sandbox. As root it runs as the uid just past the slots' range. When it cannot
// start, pytest jobs run cold and the log says why (the worker stays usable).
SandboxPtr makeZygotes(const SandboxOptions& options, Sandbox& cold, CgroupDriver* cgroups) {
  ZygoteSettings zs = options.zygote;
  const BubblewrapSettings& bw = options.bubblewrap;
  if (::geteuid() == 0) {
    const uid_t uid = bw.sandbox_uid + static_cast<uid_t>(bw.sandbox_uids);
    if (std::string problem = SandboxUids::probe(uid, 1); !problem.empty()) {
      spdlog::error("pytest jobs run cold: the zygote cannot run as uid {}: {}", uid, problem);
      return nullptr;
    }
    zs.zygote_as = Credentials{uid, uid};
  }
  auto zygotes = std::make_unique<ZygoteSandbox>(bw, zs, cold, cgroups);
  if (!zygotes->problem().empty()) {
    spdlog::error("pytest jobs run cold: {}", zygotes->problem());
  } else {
    spdlog::info("pytest jobs run as forks of a warm zygote (--zygotes)");
  }
  return zygotes;
}

}  // namespace

WorkerFacts WorkerSandbox::facts(const std::string& worker_id, int slots, const SandboxOptions& options) const {
  return {worker_id,
          options.unsandboxed ? "unsandboxed" : "bubblewrap",
          !options.unsandboxed && options.bubblewrap.seccomp,
          cgroups != nullptr,
          cgroups ? cgroups->describe() : "not enforced: " + no_cgroups,
          slots};
}

std::optional<WorkerSandbox> makeWorkerSandbox(const SandboxOptions& options) {
  WorkerSandbox made;
  made.cgroups = detectCgroups(options.cgroups, made.no_cgroups);
  if (made.cgroups) {
    spdlog::info("per-job limits through {}", made.cgroups->describe());
  } else {
    spdlog::warn("per-job memory, pids and CPU limits are NOT enforced: {}; results say so (limits_enforced=false)",
                 made.no_cgroups);
  }
  if (!makeWorkRoot(options.bubblewrap.work_root)) return std::nullopt;
  if (!options.bubblewrap.seccomp) spdlog::warn("the seccomp filter is OFF (--no-seccomp)");
  if (options.unsandboxed) {
    spdlog::critical(
        "RUNNING TESTS WITHOUT A SANDBOX (--unsandboxed): tests can read and change this machine; "
        "every result is marked unsandboxed");
    made.sandbox = std::make_unique<UnsandboxedRunner>(options.bubblewrap.stage_runner);
  } else {
    made.sandbox = makeBubblewrap(options.bubblewrap, made.cgroups.get());
    if (!made.sandbox) return std::nullopt;
  }
  if (options.zygotes && !options.unsandboxed) made.zygotes = makeZygotes(options, *made.sandbox, made.cgroups.get());
  if (options.fault_probability > 0) {
    spdlog::warn("injecting sandbox set-up faults into {:.0f}% of jobs (--inject-sandbox-faults)",
                 options.fault_probability * 100);
    Sandbox& inner = made.zygotes ? *made.zygotes : *made.sandbox;
    made.faulty = std::make_unique<FaultInjectingSandbox>(inner, options.fault_probability);
  }
  return made;
}

}  // namespace testfleet::worker
