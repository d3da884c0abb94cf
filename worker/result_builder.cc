#include "worker/result_builder.h"

#include <csignal>
#include <cstring>
#include <functional>
#include <sstream>

#include "common/exception_text.h"
#include "common/go_test_reader.h"
#include "common/jest_json_reader.h"
#include "common/junit_reader.h"
#include "common/text.h"
#include "common/verdict.h"

namespace testfleet::worker {

StageEnds parseStageLines(const std::string& text) {
  StageEnds ends;
  std::istringstream lines(text);
  std::string stage, how;
  int value = 0;
  while (lines >> stage >> how >> value) {
    std::optional<int>* exit = nullptr;
    std::optional<int>* sig = nullptr;
    std::optional<int> no_signal;
    if (stage == "workspace")
      exit = &ends.workspace_exit, sig = &no_signal;
    else if (stage == "setup")
      exit = &ends.setup_exit, sig = &ends.setup_signal;
    else if (stage == "test")
      exit = &ends.test_exit, sig = &ends.test_signal;
    else if (stage == "teardown")
      exit = &ends.teardown_exit, sig = &ends.teardown_signal;
    else
      continue;
    if (how == "exit")
      *exit = value;
    else if (how == "signal")
      *sig = value;
  }
  return ends;
}

namespace {

v1::TestCase wholeJobCase(const v1::Job& job, v1::Verdict verdict, const std::string& message, uint32_t ms) {
  v1::TestCase c;
  c.set_name(job.name());
  c.set_classname(job.name());
  c.set_status(verdict);
  c.set_duration_ms(ms);
  c.set_message(message);
  return c;
}

// Adds the per-test results of the framework's report, when it wrote one. Returns what is wrong with the report,
// or "".
std::string addReportedCases(const Evidence& ev, v1::Result& r) {
  std::string report_problem;
  if (ev.report && ev.format != ReportFormat::kNone) {
    JunitParse parsed = ev.format == ReportFormat::kGoTestJson ? readGoTestJson(*ev.report)
                        : ev.format == ReportFormat::kJestJson ? readJestJson(*ev.report)
                                                               : readJunit(*ev.report);
    for (auto& c : parsed.cases) {
      // A file that failed to load (node names the case after it): the error its process printed.
      if (c.errored()) {
        std::string cause = exceptionTextFor(ev.sandbox.stdout_text, c.name());
        if (cause.empty()) cause = exceptionTextFor(ev.sandbox.stderr_text, c.name());
        if (!cause.empty() && c.message().find(cause) == std::string::npos)
          c.set_message(keepHeadAndTail(c.message() + ": " + cause, JunitLimits{}.max_message_bytes));
      }
      *r.add_cases() = std::move(c);
    }
    report_problem = parsed.error;
  }
  return report_problem;
}

// Sets the verdict, stage and error of the result (and the whole-job case when there is no other).
using Finish = std::function<void(v1::Verdict, const std::string& stage, const std::string& error)>;

// The verdict once the test stage reported its exit code (ev.stages.test_exit is set): a crash the shell reported
// as 128 + n, else the exit code against the report's cases.
void finishByExitCode(const Evidence& ev, const std::string& report_problem, v1::Result& r, const Finish& finish) {
  const int code = *ev.stages.test_exit;
  // The test command runs under /bin/sh, which reports a child killed by signal n as exit code 128 + n. For the
  // signals that mean a crash, that is what it was.
  if (const int sig = code - 128; sig == SIGILL || sig == SIGABRT || sig == SIGBUS || sig == SIGFPE || sig == SIGKILL ||
                                  sig == SIGSEGV || sig == SIGSYS) {
    r.set_exit_code(code);
    r.set_signal(sig);
    return finish(v1::CRASHED, "test",
                  "killed by signal " + std::to_string(sig) + " (" + strsignal(sig) +
                      "; the shell reported exit code " + std::to_string(code) + ")");
  }
  r.set_exit_code(code);
  r.set_signal(0);
  bool any_failed = false, all_skipped = r.cases_size() > 0;
  for (const auto& c : r.cases()) {
    any_failed |= isFailing(c.status());
    all_skipped &= c.status() == v1::SKIPPED;
  }
  const bool expects_report = ev.format != ReportFormat::kNone;
  if (expects_report && !ev.report && code != 0) {
    // The framework stopped before it ran anything (pytest exits 4 when a conftest cannot import): the exception it
    // printed makes the job's case an errored one.
    std::string cause = exceptionText(ev.sandbox.stderr_text);
    if (cause.empty()) cause = exceptionText(ev.sandbox.stdout_text);
    finish(v1::FAILED, "test",
           "exit code " + std::to_string(code) + " and no report was written" + (cause.empty() ? "" : ": " + cause));
    if (!cause.empty() && r.cases_size() == 1) {
      v1::TestCase& c = *r.mutable_cases(0);
      c.set_errored(true);
      c.set_message("error: " + c.message());
      c.set_details(
          keepHeadAndTail(ev.sandbox.stderr_text.empty() ? ev.sandbox.stdout_text : ev.sandbox.stderr_text, 16384));
    }
    return;
  }
  if (!report_problem.empty() && code == 0) return finish(v1::FAILED, "test", "bad report: " + report_problem);
  if (code != 0 || any_failed) {
    std::string error = "exit code " + std::to_string(code);
    if (code != 0 && !any_failed && r.cases_size() > 0) error += " although every reported test passed";
    if (code == 0) error = "the report has failing tests";
    return finish(v1::FAILED, "test", error);
  }
  if (expects_report && r.cases_size() == 0) return finish(v1::FAILED, "test", "the framework ran no tests");
  finish(all_skipped ? v1::SKIPPED : v1::PASSED, "test", "");
}

}  // namespace

v1::Result resultFor(const v1::Job& job, const std::string& worker_id) {
  v1::Result r;
  r.set_schema_version(1);
  r.set_run_id(job.run_id());
  r.set_job_id(job.job_id());
  r.set_attempt(job.attempt());
  r.set_name(job.name());
  for (const auto& t : job.tests()) r.add_tests(t);
  r.set_worker_id(worker_id);
  return r;
}

void buildResult(const v1::Job& job, const Evidence& ev, size_t tail_bytes, v1::Result& r) {
  using End = SandboxOutcome::End;
  const SandboxOutcome& sb = ev.sandbox;
  const uint32_t wall_ms = static_cast<uint32_t>(sb.wall.count());
  r.set_stdout_tail(keepHeadAndTail(sb.stdout_text, tail_bytes));
  r.set_stderr_tail(keepHeadAndTail(sb.stderr_text, tail_bytes));
  r.mutable_usage()->set_wall_ms(wall_ms);
  r.mutable_usage()->set_cpu_ms(sb.cpu_ms);
  r.mutable_usage()->set_peak_memory_bytes(sb.peak_memory_bytes);
  r.set_exit_code(sb.exit_code);
  r.set_signal(sb.signal);

  auto finish = [&](v1::Verdict verdict, const std::string& stage, const std::string& error) {
    r.set_verdict(verdict);
    r.set_stage(stage);
    r.set_error(error);
    if (r.cases_size() == 0) *r.add_cases() = wholeJobCase(job, verdict, error, wall_ms);
  };

  // Bounded (it may quote bubblewrap's whole stderr): the job loop copies up to 1000 bytes of an ERROR's text into
  // the retry record, and this keeps that copy from ending inside a character.
  if (sb.end == End::kSetupFailed) return finish(v1::ERROR, "sandbox", keepHeadAndTail(sb.setup_error, 800));
  if (sb.end == End::kRefused) return finish(v1::FAILED, "sandbox", sb.setup_error);
  if (sb.end == End::kCancelled) return finish(v1::ERROR, "test", "the job was cancelled (worker lost the job)");
  r.set_limits_enforced(sb.limits_enforced);
  if (sb.end == End::kFlooded) {
    return finish(v1::FAILED, "test",
                  "killed: its output went over the flood limit of " + std::to_string(job.limits().output_bytes()) +
                      " bytes (head and tail kept)");
  }
  if (sb.oom_killed) {
    return finish(v1::OOM, ev.stages.test_exit || ev.stages.test_signal ? "test" : "setup",
                  "killed by the memory limit of " + std::to_string(job.limits().memory_bytes()) + " bytes");
  }

  // Per-test results from the framework's report, when it wrote one, even for a run that then timed out.
  const std::string report_problem = addReportedCases(ev, r);

  if (sb.end == End::kTimedOut) {
    return finish(v1::TIMEOUT, ev.stages.test_exit || ev.stages.test_signal ? "teardown" : "test",
                  "timed out after " + std::to_string(job.timeout_ms()) + " ms; the whole process tree was killed");
  }
  if (ev.stages.workspace_exit && *ev.stages.workspace_exit != 0) {
    return finish(v1::FAILED, "workspace",
                  "the job's files do not fit in the workspace (" + keepHeadAndTail(sb.stderr_text, 300) + ")");
  }
  if (ev.stages.setup_signal || (ev.stages.setup_exit && *ev.stages.setup_exit != 0)) {
    std::string how = ev.stages.setup_signal ? "was killed by signal " + std::to_string(*ev.stages.setup_signal)
                                             : "exited with " + std::to_string(*ev.stages.setup_exit);
    return finish(v1::FAILED, "setup", "setup " + how);
  }
  if (ev.stages.test_signal) {
    r.set_exit_code(-1);
    r.set_signal(*ev.stages.test_signal);
    return finish(v1::CRASHED, "test", "killed by signal " + std::to_string(*ev.stages.test_signal));
  }
  if (!ev.stages.test_exit) {
    // The stage runner never reported the test: the sandbox's init was killed from outside.
    return finish(sb.signal ? v1::CRASHED : v1::ERROR, "test",
                  "the test ended without a status (sandbox exit " + std::to_string(sb.exit_code) + ", signal " +
                      std::to_string(sb.signal) + ")");
  }
  finishByExitCode(ev, report_problem, r, finish);
}

}  // namespace testfleet::worker
