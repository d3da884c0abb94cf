#include "worker/job_runner.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "common/frameworks/framework.h"
#include "common/workspace_paths.h"
#include "worker/result_builder.h"

namespace testfleet::worker {
namespace fs = std::filesystem;

namespace {

// Writes a file that must not exist yet, refusing to follow links.
bool writeNew(const fs::path& path, const std::string& content, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return false;
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n <= 0) {
      ::close(fd);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return ::close(fd) == 0;
}

// Lays out the workspace; returns what is wrong with the job's files, or "".
std::string materialise(const v1::Job& job, const fs::path& ws) {
  for (const auto& f : job.files()) {
    if (!isSafeRelativePath(f.path())) return "file path '" + f.path() + "' leaves the workspace";
    fs::path target = ws / f.path();
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (ec) return "cannot create " + target.parent_path().string() + ": " + ec.message();
    if (!writeNew(target, f.content(), f.executable() ? 0755 : 0644)) {
      return "cannot write " + f.path() + " (duplicate path or disk full)";
    }
  }
  return "";
}

// The ids a listing job found, bounded so the result stays a small Kafka record; too many is a failure that says
// what to do instead.
void readListing(const FrameworkAdapter& adapter, const std::optional<std::string>& report, v1::Result& r) {
  constexpr size_t kMaxIds = 20000, kMaxBytes = 768 << 10;
  std::vector<std::string> ids = report ? adapter.parseListing(*report) : std::vector<std::string>{};
  size_t bytes = 0;
  for (const auto& id : ids) bytes += id.size();
  auto failed = [&](const std::string& why) {
    r.set_verdict(v1::FAILED);
    r.set_error(why);
    if (r.cases_size() > 0) {
      r.mutable_cases(0)->set_status(v1::FAILED);
      r.mutable_cases(0)->set_message(why);
    }
  };
  if (ids.empty()) return failed("the listing found no tests");
  if (ids.size() > kMaxIds || bytes > kMaxBytes) {
    return failed("the listing found " + std::to_string(ids.size()) + " tests (" + std::to_string(bytes) +
                  " bytes of ids), over what one split may hold; split by file and use 'group' instead");
  }
  for (auto& id : ids) r.add_listed(std::move(id));
}

// Takes the artifacts the stage runner sent back. It already held to the budget; the worker checks again (the
// stream comes from inside the sandbox), and keeps only safe relative paths.
void collectArtifacts(const CollectedOutput& collected, uint64_t budget, v1::Result& r) {
  uint64_t used = 0;
  for (const CollectedFile& f : collected.artifacts) {
    if (!isSafeRelativePath(f.path) || r.artifacts_size() >= 1000) continue;
    const uint64_t left = budget > used ? budget - used : 0;
    v1::Artifact* a = r.add_artifacts();
    a->set_path(f.path);
    a->set_size(f.size);
    a->set_truncated(f.truncated || f.content.size() > left);
    a->set_content(f.content.substr(0, left));
    used += a->content().size();
  }
}

// The result before anything ran: which tests of which job, run by whom, from when; and the notes on its limits.
v1::Result startResult(const v1::Job& job, const std::string& worker_id, bool isolated,
                       std::vector<std::string> notes) {
  v1::Result r = resultFor(job, worker_id);
  r.set_unsandboxed(!isolated);
  r.set_final(true);
  r.set_started_at_ms(nowMillis());
  for (auto& note : notes) r.add_notes(std::move(note));
  return r;
}

// Writes the job's scripts into its control folder: test.sh, and setup.sh, teardown.sh and artifacts.txt when the
// job has them. False when the test command is empty or a script could not be written.
bool writeScripts(const v1::Job& job, const std::string& test_command, const fs::path& control) {
  bool scripts_ok = !test_command.empty() && writeNew(control / "test.sh", test_command + "\n", 0644);
  if (!job.setup().empty()) scripts_ok &= writeNew(control / "setup.sh", job.setup() + "\n", 0644);
  if (!job.teardown().empty()) scripts_ok &= writeNew(control / "teardown.sh", job.teardown() + "\n", 0644);
  if (job.artifacts_size() > 0) {
    std::string patterns;
    for (const auto& a : job.artifacts()) {
      if (a.find('\n') == std::string::npos) patterns += a + "\n";
    }
    scripts_ok &= writeNew(control / "artifacts.txt", patterns, 0644);
  }
  return scripts_ok;
}

// What the sandbox is asked for: the job's folders, environment and limits, within the worker's settings.
SandboxSpec sandboxSpec(const v1::Job& job, const JobRunnerSettings& settings, const fs::path& source,
                        const fs::path& control, const fs::path& out, const std::atomic<bool>& cancel) {
  const v1::Limits& limits = job.limits();
  SandboxSpec spec;
  spec.workspace = source;
  spec.control = control;
  spec.output = out;
  spec.env.insert(job.env().begin(), job.env().end());
  spec.env["TESTFLEET_RUN_ID"] = job.run_id();
  spec.env["TESTFLEET_JOB_ID"] = job.job_id();
  spec.env["TESTFLEET_ATTEMPT"] = std::to_string(job.attempt());
  spec.timeout = std::chrono::milliseconds(job.timeout_ms());
  spec.output_limit = settings.output_limit;
  spec.tmp_bytes = settings.tmp_bytes;
  spec.workspace_bytes = settings.workspace_bytes;
  spec.artifact_bytes = job.artifacts_size() > 0 ? settings.artifact_bytes : 0;
  spec.network = job.network();
  spec.cancel = &cancel;
  spec.limits = {limits.memory_bytes(), limits.max_pids(), limits.cpu_millis()};
  spec.max_file_bytes = settings.max_file_bytes;
  spec.output_kill_bytes = settings.output_kill_bytes;
  spec.name = job.job_id();
  return spec;
}

// A Python project in the src layout: a src folder next to its pyproject.toml, setup.cfg or setup.py. Its jobs get
// src on PYTHONPATH, as an installed project would be importable.
bool srcLayout(const fs::path& workspace) {
  std::error_code ec;
  if (!fs::is_directory(workspace / "src", ec)) return false;
  for (const char* marker : {"pyproject.toml", "setup.cfg", "setup.py"}) {
    if (fs::is_regular_file(workspace / marker, ec)) return true;
  }
  return false;
}

// The environment a job ran in, for its result; its packages are cut to keep every part of the result small.
void recordEnvironment(const PreparedEnvironment& env, v1::Result& r) {
  constexpr size_t kMaxPackages = 300;
  v1::EnvironmentUsed* used = r.mutable_environment();
  used->set_sha256(env.key);
  used->set_prepared(env.prepared);
  for (size_t i = 0; i < env.packages.size() && i < kMaxPackages; ++i) used->add_packages(env.packages[i]);
}

// Mounts a prepared environment for the job and gives it the variables that make it importable: as the sandbox
// sees them, or the host's paths when unsandboxed.
void useEnvironment(const PreparedEnvironment& env, bool isolated, const fs::path& source, SandboxSpec& spec) {
  spec.environment = env.dir;
  const std::string work = isolated ? "/work" : source.string();
  for (auto& [k, v] : pythonJobVariables(env.root, work, srcLayout(source), spec.env)) spec.env[k] = v;
}

EnvironmentSettings environmentSettings(const JobRunnerSettings& s) {
  EnvironmentSettings e;
  e.root = s.work_root / "environments";
  e.sources = s.package_sources;
  e.timeout = s.environment_timeout;
  return e;
}

}  // namespace

JobRunner::JobRunner(JobRunnerSettings settings, Sandbox& sandbox)
    : settings_(std::move(settings)),
      sandbox_(sandbox),
      bundles_(settings_.work_root / "bundles", {}, settings_.allow_file_bundles, settings_.bundle_cache_bytes,
               settings_.bundle_origins),
      environments_(environmentSettings(settings_), sandbox) {}

PreparedEnvironment JobRunner::environmentFor(const v1::Job& job, const std::atomic<bool>& cancel, v1::Result& r) {
  if (!job.has_environment()) return {};
  PreparedEnvironment env = environments_.get(job.environment(), cancel);
  recordEnvironment(env, r);
  return env;
}

v1::Result JobRunner::run(const v1::Job& submitted, const std::atomic<bool>& cancel) {
  // The limits this run gets: the job's own within the worker's ceilings, or the worker's defaults.
  v1::Job job = submitted;
  std::vector<std::string> notes;
  const std::string refusal = applyCeilings(job, settings_.defaults, settings_.ceilings, notes);
  job.mutable_limits()->set_output_bytes(settings_.output_kill_bytes);
  v1::Result r = startResult(job, settings_.worker_id, sandbox_.isolated(), std::move(notes));

  const fs::path dir = settings_.work_root / (std::to_string(::getpid()) + "-" + std::to_string(sequence_++));
  const fs::path ws = dir / "work", control = dir / "control", out = dir / "out";
  std::error_code ec;
  fs::remove_all(dir, ec);
  for (const auto& d : {ws, control, out}) fs::create_directories(d, ec);

  auto fail = [&](v1::Verdict verdict, const std::string& stage, const std::string& error) {
    r.set_verdict(verdict);
    r.set_stage(stage);
    r.set_error(error);
    v1::TestCase* c = r.add_cases();
    c->set_name(job.name());
    c->set_classname(job.name());
    c->set_status(verdict);
    c->set_message(error);
  };

  FrameworkAdapterPtr adapter = makeAdapter(job.framework());
  fs::path source = ws;  // what the sandbox copies into /work: the inline files, or an unpacked bundle
  BundleFetch fetched;
  PreparedEnvironment environment;
  if (!ec && refusal.empty() && adapter && job.has_bundle()) {
    fetched = bundles_.get(job.bundle());
    if (fetched.error.empty()) source = fetched.dir;
  }
  if (ec) {
    fail(v1::ERROR, "workspace", "cannot create " + dir.string() + ": " + ec.message());
  } else if (!refusal.empty()) {
    fail(v1::FAILED, "workspace", refusal);
  } else if (!adapter) {
    fail(v1::FAILED, "workspace", "unknown framework " + std::to_string(job.framework()));
  } else if (job.has_bundle() && job.files_size() > 0) {
    fail(v1::FAILED, "workspace", "the job has both a bundle and inline files; it may have one of them");
  } else if (!fetched.error.empty()) {
    // A failed fetch is the infrastructure's side (a retry may reach the server); a wrong hash or an unsafe
    // archive stays wrong, so it fails the job at once.
    fail(fetched.transient ? v1::ERROR : v1::FAILED, "bundle", fetched.error);
  } else if (std::string problem = materialise(job, ws); !problem.empty()) {
    fail(v1::FAILED, "workspace", problem);
  } else if (environment = environmentFor(job, cancel, r); !environment.error.empty()) {
    // Preparing failed: the registry or the worker's disk may do better on a retry, so it is the infrastructure's.
    fail(v1::ERROR, "environment", environment.error);
  } else {
    const std::string test_command = job.list_tests() ? adapter->listCommand(job) : adapter->command(job);
    const bool scripts_ok = writeScripts(job, test_command, control);
    if (test_command.empty()) {
      fail(v1::FAILED, "test", "the " + std::string(adapter->name()) + " adapter cannot list tests (split: test)");
    } else if (!scripts_ok) {
      fail(v1::ERROR, "workspace", "cannot write the job's scripts under " + control.string());
    } else {
      SandboxSpec spec = sandboxSpec(job, settings_, source, control, out, cancel);
      if (job.has_environment()) useEnvironment(environment, sandbox_.isolated(), source, spec);
      if (!job.list_tests()) spec.framework = adapter->name();
      Evidence ev;
      ev.sandbox = sandbox_.run(spec);
      ev.format = job.list_tests() ? ReportFormat::kNone : adapter->report(job);
      if (ev.format != ReportFormat::kNone) ev.report = ev.sandbox.collected.report;
      ev.stages = parseStageLines(ev.sandbox.stage_report);
      buildResult(job, ev, settings_.tail_bytes, r);
      if (job.list_tests() && r.verdict() == v1::PASSED) readListing(*adapter, ev.sandbox.collected.report, r);
      if (job.artifacts_size() > 0) collectArtifacts(ev.sandbox.collected, settings_.artifact_bytes, r);
    }
  }
  r.set_finished_at_ms(nowMillis());
  if (!settings_.keep_workspaces) fs::remove_all(dir, ec);
  return r;
}

}  // namespace testfleet::worker
