#include "worker/job_runner.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "common/frameworks/framework.h"
#include "worker/result_builder.h"

namespace testfleet::worker {
namespace fs = std::filesystem;

bool isSafeWorkspacePath(const std::string& path) {
  if (path.empty() || path.size() > 1024 || path.front() == '/' || path.find('\0') != std::string::npos) return false;
  std::stringstream parts(path);
  std::string part;
  while (std::getline(parts, part, '/')) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  return true;
}

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

std::optional<std::string> readSmallFile(const fs::path& path, size_t limit) {
  std::error_code ec;
  if (!fs::is_regular_file(fs::symlink_status(path, ec))) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  std::string text;
  text.resize(limit + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

// Lays out the workspace; returns what is wrong with the job's files, or "".
std::string materialise(const v1::Job& job, const fs::path& ws) {
  for (const auto& f : job.files()) {
    if (!isSafeWorkspacePath(f.path())) return "file path '" + f.path() + "' leaves the workspace";
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
void readListing(const FrameworkAdapter& adapter, const fs::path& report, v1::Result& r) {
  constexpr size_t kMaxIds = 20000, kMaxBytes = 768 << 10;
  auto text = readSmallFile(report, 16 << 20);
  std::vector<std::string> ids = text ? adapter.parseListing(*text) : std::vector<std::string>{};
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

// Reads what the stage runner copied out (it already held to the budget; the worker checks again, as the sandbox
// could have written there itself). Regular files only, links not followed.
void collectArtifacts(const fs::path& dir, uint64_t budget, v1::Result& r) {
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(dir, ec))) return;
  std::set<std::string> cut;  // paths the stage runner could not copy whole
  if (auto list = readSmallFile(dir.parent_path() / "artifacts.truncated", 1 << 20)) {
    std::istringstream lines(*list);
    for (std::string line; std::getline(lines, line);) cut.insert(line);
  }
  uint64_t used = 0;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->is_symlink(ec) || r.artifacts_size() >= 1000) continue;
    const uint64_t left = budget > used ? budget - used : 0;
    auto content = readSmallFile(it->path(), left);
    if (!content) continue;
    v1::Artifact* a = r.add_artifacts();
    a->set_path(fs::relative(it->path(), dir, ec).generic_string());
    a->set_size(it->file_size(ec));
    a->set_truncated(content->size() > left || cut.count(a->path()) > 0);
    content->resize(std::min<uint64_t>(content->size(), left));
    used += content->size();
    a->set_content(std::move(*content));
  }
}

}  // namespace

JobRunner::JobRunner(JobRunnerSettings settings, Sandbox& sandbox)
    : settings_(std::move(settings)), sandbox_(sandbox), bundles_(settings_.work_root / "bundles", {}, settings_.allow_file_bundles, settings_.bundle_cache_bytes) {}

v1::Result JobRunner::run(const v1::Job& submitted, const std::atomic<bool>& cancel) {
  // The limits this run gets: the job's own, or the worker's defaults; recorded in the job the result refers to.
  v1::Job job = submitted;
  v1::Limits& limits = *job.mutable_limits();
  if (!limits.memory_bytes()) limits.set_memory_bytes(settings_.default_memory_bytes);
  if (!limits.max_pids()) limits.set_max_pids(settings_.default_max_pids);
  if (!limits.cpu_millis()) limits.set_cpu_millis(settings_.default_cpu_millis);
  limits.set_output_bytes(settings_.output_kill_bytes);
  v1::Result r;
  r.set_schema_version(1);
  r.set_run_id(job.run_id());
  r.set_job_id(job.job_id());
  r.set_attempt(job.attempt());
  r.set_name(job.name());
  for (const auto& t : job.tests()) r.add_tests(t);
  r.set_worker_id(settings_.worker_id);
  r.set_unsandboxed(!sandbox_.isolated());
  r.set_final(true);
  r.set_started_at_ms(nowMillis());

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
  if (!ec && adapter && job.has_bundle()) {
    fetched = bundles_.get(job.bundle());
    if (fetched.error.empty()) source = fetched.dir;
  }
  if (ec) {
    fail(v1::ERROR, "workspace", "cannot create " + dir.string() + ": " + ec.message());
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
  } else {
    const std::string test_command = job.list_tests() ? adapter->listCommand(job) : adapter->command(job);
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
    ::chmod(out.c_str(), 0777);  // the sandbox user must write its report here
    ::chmod(ws.c_str(), 0777);
    if (test_command.empty()) {
      fail(v1::FAILED, "test", "the " + std::string(adapter->name()) + " adapter cannot list tests (split: test)");
    } else if (!scripts_ok) {
      fail(v1::ERROR, "workspace", "cannot write the job's scripts under " + control.string());
    } else {
      SandboxSpec spec;
      spec.workspace = source;
      spec.control = control;
      spec.output = out;
      spec.env.insert(job.env().begin(), job.env().end());
      spec.env["TESTFLEET_RUN_ID"] = job.run_id();
      spec.env["TESTFLEET_JOB_ID"] = job.job_id();
      spec.env["TESTFLEET_ATTEMPT"] = std::to_string(job.attempt());
      auto timeout = std::chrono::milliseconds(job.timeout_ms() ? job.timeout_ms() : 300000);
      spec.timeout = std::min(timeout, settings_.max_timeout);
      spec.output_limit = settings_.output_limit;
      spec.tmp_bytes = settings_.tmp_bytes;
      spec.workspace_bytes = settings_.workspace_bytes;
      spec.artifact_bytes = job.artifacts_size() > 0 ? settings_.artifact_bytes : 0;
      spec.network = job.network();
      spec.cancel = &cancel;
      spec.limits = {limits.memory_bytes(), limits.max_pids(), limits.cpu_millis()};
      spec.max_file_bytes = settings_.max_file_bytes;
      spec.output_kill_bytes = settings_.output_kill_bytes;
      spec.name = job.job_id();
      Evidence ev;
      ev.sandbox = sandbox_.run(spec);
      ev.format = job.list_tests() ? ReportFormat::kNone : adapter->report(job);
      if (ev.format != ReportFormat::kNone) ev.report = readSmallFile(out / kReportFile, 16 << 20);
      ev.stages = parseStageLines(ev.sandbox.stage_report);
      buildResult(job, ev, settings_.tail_bytes, r);
      if (job.list_tests() && r.verdict() == v1::PASSED) readListing(*adapter, out / kReportFile, r);
      if (job.artifacts_size() > 0) collectArtifacts(out / "artifacts", settings_.artifact_bytes, r);
    }
  }
  r.set_finished_at_ms(nowMillis());
  if (!settings_.keep_workspaces) fs::remove_all(dir, ec);
  return r;
}

}  // namespace testfleet::worker
