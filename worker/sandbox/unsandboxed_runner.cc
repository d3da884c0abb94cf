#include "worker/sandbox/unsandboxed_runner.h"

#include "worker/sandbox/process.h"

namespace testfleet::worker {

SandboxOutcome UnsandboxedRunner::run(const SandboxSpec& spec) {
  ProcessSpec ps;
  ps.argv = {stage_runner_.string(), spec.workspace.string(), spec.control.string(), "",
             std::to_string(spec.artifact_bytes)};
  std::map<std::string, std::string> env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"},
                                            {"HOME", spec.workspace.string()},
                                            {"LANG", "C.UTF-8"},
                                            {"TESTFLEET", "1"},
                                            {"TESTFLEET_UNSANDBOXED", "1"},
                                            {"TF_OUT", spec.output.string()}};
  for (const auto& [k, v] : spec.env) env[k] = v;
  for (const auto& [k, v] : env) ps.env.push_back(k + "=" + v);
  ps.status_fds = {3, 4};  // 3 unused (bubblewrap's slot), 4 the stage lines
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
