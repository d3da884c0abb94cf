#include "worker/sandbox/unsandboxed_runner.h"

#include "worker/sandbox/process.h"
#include "worker/sandbox/stage_runner_outcome.h"

namespace testfleet::worker {

SandboxOutcome UnsandboxedRunner::run(const SandboxSpec& spec) {
  ProcessSpec ps;
  // The workspace is the job's own folder here; the worker's deadline is the only one (nothing contains the tree
  // for the stage runner to end it).
  ps.argv = {stage_runner_.string(),
             spec.workspace.string(),
             spec.control.string(),
             "",
             std::to_string(spec.artifact_bytes),
             std::to_string(spec.report_bytes),
             "0",
             "host"};
  std::map<std::string, std::string> env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"},
                                            {"HOME", spec.workspace.string()},
                                            {"LANG", "C.UTF-8"},
                                            {"TESTFLEET", "1"},
                                            {"TESTFLEET_UNSANDBOXED", "1"},
                                            {"TF_OUT", spec.output.string()}};
  for (const auto& [k, v] : spec.env) env[k] = v;
  for (const auto& [k, v] : env) ps.env.push_back(k + "=" + v);
  // No isolation reports a status here: its pipe stays unused.
  ps.status_pipes = stageRunnerPipes(4096, spec.report_bytes + spec.artifact_bytes + (8 << 20));
  ps.timeout = spec.timeout;
  ps.output_limit = spec.output_limit;
  ps.cancel = spec.cancel;
  ps.output_kill_bytes = spec.output_kill_bytes;
  ps.max_file_bytes = spec.max_file_bytes;
  return stageRunnerOutcome(runProcess(ps), "");
}

}  // namespace testfleet::worker
