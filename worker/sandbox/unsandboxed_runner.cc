#include "worker/sandbox/unsandboxed_runner.h"

#include "worker/sandbox/process.h"

namespace testfleet::worker {

SandboxOutcome UnsandboxedRunner::run(const SandboxSpec& spec) {
  ProcessSpec ps;
  // The workspace is the job's own folder here; the worker's deadline is the only one (nothing contains the tree
  // for the stage runner to end it).
  ps.argv = {stage_runner_.string(), spec.workspace.string(), spec.control.string(), "",
             std::to_string(spec.artifact_bytes), std::to_string(spec.report_bytes), "0", "host"};
  std::map<std::string, std::string> env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"},
                                            {"HOME", spec.workspace.string()},
                                            {"LANG", "C.UTF-8"},
                                            {"TESTFLEET", "1"},
                                            {"TESTFLEET_UNSANDBOXED", "1"},
                                            {"TF_OUT", spec.output.string()}};
  for (const auto& [k, v] : spec.env) env[k] = v;
  for (const auto& [k, v] : env) ps.env.push_back(k + "=" + v);
  // 3 unused (bubblewrap's slot), 4 the stage lines, 5 the report and artifacts.
  ps.status_pipes = {{3, 4096}, {4, 64 << 10}, {5, spec.report_bytes + spec.artifact_bytes + (8 << 20)}};
  ps.timeout = spec.timeout;
  ps.output_limit = spec.output_limit;
  ps.cancel = spec.cancel;
  ps.output_kill_bytes = spec.output_kill_bytes;
  ps.max_file_bytes = spec.max_file_bytes;
  ProcessOutcome po = runProcess(ps);
  SandboxOutcome out;
  out.wall = po.wall;
  out.cpu_ms = po.cpu_ms;
  out.peak_memory_bytes = po.max_rss_bytes;
  out.stdout_text = std::move(po.stdout_text);
  out.stderr_text = std::move(po.stderr_text);
  out.exit_code = po.exit_code;
  out.signal = po.signal;
  out.stage_report = po.status_text.size() > 1 ? po.status_text[1] : "";
  if (po.status_text.size() > 2) out.collected = parseCollectedOutput(po.status_text[2]);
  using End = SandboxOutcome::End;
  if (!po.started) {
    out.end = End::kSetupFailed;
    out.setup_error = po.spawn_error;
  } else if (po.timed_out) {
    out.end = End::kTimedOut;
  } else if (po.cancelled) {
    out.end = End::kCancelled;
  } else if (po.flooded) {
    out.end = End::kFlooded;
  } else {
    out.end = po.signal ? End::kSignaled : End::kExited;
  }
  return out;
}

}  // namespace testfleet::worker
