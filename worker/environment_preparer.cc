#include "worker/environment_preparer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <fstream>

#include "common/environment_hash.h"
#include "common/text.h"
#include "common/workspace_paths.h"

namespace testfleet::worker {
namespace fs = std::filesystem;

namespace {

bool writeFile(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  return static_cast<bool>(out.flush());
}

// What a failed step said, for people: how it ended and the tail of its output (pip writes its errors on stderr).
std::string stepFailure(const SandboxOutcome& out, size_t tail_bytes) {
  using End = SandboxOutcome::End;
  std::string how;
  switch (out.end) {
    case End::kExited:
      how = "exit code " + std::to_string(out.exit_code);
      break;
    case End::kSignaled:
      how = "signal " + std::to_string(out.signal);
      break;
    case End::kTimedOut:
      how = "out of time";
      break;
    case End::kCancelled:
      how = "cancelled";
      break;
    case End::kFlooded:
      how = "too much output";
      break;
    case End::kSetupFailed:
    case End::kRefused:
      return out.setup_error;
  }
  std::string tail = out.stderr_text.empty() ? out.stdout_text : out.stderr_text;
  if (tail.size() > tail_bytes) tail = "…" + tail.substr(tail.size() - tail_bytes);
  return how + (tail.empty() ? "" : ":\n" + validUtf8(tail));
}

}  // namespace

std::vector<std::string> readPackageList(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return {};
  struct stat st {};
  std::string text;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    text.resize(64 << 10);
    size_t got = 0;
    for (ssize_t n; got < text.size() && (n = ::read(fd, text.data() + got, text.size() - got)) > 0;) {
      got += static_cast<size_t>(n);
    }
    text.resize(got);
  }
  ::close(fd);
  return parsePackages(text);
}

namespace {

// Bytes of the regular files under dir, links not followed; stops counting past `limit`.
uint64_t treeBytes(const fs::path& dir, uint64_t limit) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    std::error_code size_ec;
    if (it->symlink_status(size_ec).type() == fs::file_type::regular) total += it->file_size(size_ec);
    if (total > limit) break;
  }
  return total;
}

}  // namespace

EnvironmentPreparer::EnvironmentPreparer(EnvironmentSettings settings, Sandbox& sandbox)
    : settings_(std::move(settings)), sandbox_(sandbox), cache_(settings_.root / "trees") {}

SandboxOutcome EnvironmentPreparer::runStep(const std::string& name, const std::string& script,
                                            const google::protobuf::RepeatedPtrField<v1::WorkspaceFile>& files,
                                            const fs::path& env_dir, const std::atomic<bool>& cancel,
                                            std::string& problem) {
  const fs::path dir = settings_.root / "scratch" / (std::to_string(::getpid()) + "-" + std::to_string(sequence_++));
  const fs::path work = dir / "work", control = dir / "control", out = dir / "out";
  std::error_code ec;
  fs::remove_all(dir, ec);
  for (const auto& d : {work, control, out}) fs::create_directories(d, ec);
  bool ok = !ec && writeFile(control / "test.sh", script + "\n");
  for (const auto& f : files) {
    if (!ok) break;
    if (!isSafeRelativePath(f.path())) {
      problem = "environment file path '" + f.path() + "' leaves the workspace";
      ok = false;
      break;
    }
    fs::create_directories((work / f.path()).parent_path(), ec);
    ok = !ec && writeFile(work / f.path(), f.content());
  }
  SandboxOutcome outcome;
  if (!ok) {
    if (problem.empty()) problem = "cannot write the preparation's files under " + dir.string();
  } else {
    SandboxSpec spec;
    spec.workspace = work;
    spec.control = control;
    spec.output = out;
    spec.timeout = settings_.timeout;
    spec.tmp_bytes = settings_.tmp_bytes;
    spec.workspace_bytes = settings_.tmp_bytes;
    spec.network = !env_dir.empty() && !settings_.sources.offline;
    spec.environment = env_dir;
    spec.environment_writable = true;
    spec.limits = settings_.limits;
    spec.cancel = &cancel;
    spec.name = name;
    spec.env = pythonPreparationVariables(settings_.sources);
    outcome = sandbox_.run(spec);
  }
  fs::remove_all(dir, ec);
  return outcome;
}

std::string EnvironmentPreparer::interpreter(const std::atomic<bool>& cancel, std::string& problem) {
  std::lock_guard lock(mutex_);
  if (!interpreter_.empty()) return interpreter_;
  SandboxOutcome out = runStep("python-identity", std::string(kPythonIdentityScript), {}, {}, cancel, problem);
  std::string line = out.stdout_text.substr(0, out.stdout_text.find('\n'));
  if (!problem.empty()) return "";
  if (out.end != SandboxOutcome::End::kExited || out.exit_code != 0 || line.empty()) {
    problem = "cannot run python3 in the sandbox to name the interpreter: " + stepFailure(out, settings_.tail_bytes);
    return "";
  }
  interpreter_ = line;
  spdlog::info("environments are prepared for {}", interpreter_);
  return interpreter_;
}

PreparedEnvironment EnvironmentPreparer::get(const v1::Environment& env, const std::atomic<bool>& cancel) {
  PreparedEnvironment p;
  const std::string python = interpreter(cancel, p.error);
  if (python.empty()) return p;
  p.key = environmentKey(env, python);
  const bool isolated = sandbox_.isolated();
  EnvironmentEntry entry = cache_.get(p.key, [&](const fs::path& temp) {
    spdlog::info("preparing environment {} ({} file(s))", p.key.substr(0, 12), env.files_size());
    const auto started = std::chrono::steady_clock::now();
    std::string problem;
    const std::string target = isolated ? "/env" : temp.string();
    const std::string script = pythonPreparationScript(env, target);
    SandboxOutcome out = runStep("environment", script, env.files(), temp, cancel, problem);
    if (problem.empty() && out.stage_report.empty() && out.end != SandboxOutcome::End::kCancelled) {
      // The sandbox never started (bubblewrap can fail setting up a network namespace now and then): nothing was
      // written, so the step is tried once more before the job fails.
      spdlog::warn("environment {}: the preparation's sandbox did not start ({}); trying once more",
                   p.key.substr(0, 12), stepFailure(out, 300));
      out = runStep("environment", script, env.files(), temp, cancel, problem);
    }
    if (!problem.empty()) return problem;
    if (out.end != SandboxOutcome::End::kExited || out.exit_code != 0) {
      return "preparing the python environment failed (" + stepFailure(out, settings_.tail_bytes) + ")";
    }
    if (treeBytes(temp, settings_.max_bytes) > settings_.max_bytes) {
      return "the prepared python environment is larger than the worker's limit of " +
             std::to_string(settings_.max_bytes >> 20) + " MiB; it was not kept";
    }
    spdlog::info(
        "prepared environment {} in {} ms", p.key.substr(0, 12),
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
    return std::string();
  });
  if (!entry.error.empty()) {
    p.error = entry.error;
    return p;
  }
  if (!entry.prepared) {
    std::lock_guard lock(mutex_);
    if (reused_.insert(p.key).second) {
      spdlog::info("environment {} is prepared already: nothing to prepare", p.key.substr(0, 12));
    }
  }
  p.dir = entry.dir;
  p.root = isolated ? "/env" : entry.dir.string();
  p.prepared = entry.prepared;
  p.packages = readPackageList(entry.dir / "packages.txt");
  return p;
}

}  // namespace testfleet::worker
