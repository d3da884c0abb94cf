#include "worker/sandbox/stage_runner_outcome.h"

#include "worker/sandbox/stage_runner_fds.h"

namespace testfleet::worker {
namespace {

// Indexes into ProcessOutcome::status_text, in stageRunnerPipes' order.
constexpr size_t kIsolationPipe = 0, kStagePipe = 1, kCollectPipe = 2;

bool stageTimedOut(const std::string& stage_report) { return stage_report.find(" timeout ") != std::string::npos; }

SandboxOutcome::End endOf(const ProcessOutcome& po, const SandboxOutcome& out, const std::string& isolation_failure) {
  using End = SandboxOutcome::End;
  if (!po.started || !po.gate_refusal.empty()) return End::kSetupFailed;
  if (po.timed_out || stageTimedOut(out.stage_report)) return End::kTimedOut;
  if (po.cancelled) return End::kCancelled;
  if (po.flooded) return End::kFlooded;
  if (!isolation_failure.empty()) return End::kSetupFailed;
  return po.signal != 0 ? End::kSignaled : End::kExited;
}

}  // namespace

std::vector<StatusPipe> stageRunnerPipes(size_t isolation_status_bytes, size_t collect_bytes) {
  static_assert(kIsolationPipe == 0 && kStagePipe == 1 && kCollectPipe == 2, "the order of the list below");
  return {{stage_runner_fds::kIsolationStatus, isolation_status_bytes},
          {stage_runner_fds::kStageStatus, 64 << 10},
          {stage_runner_fds::kCollect, collect_bytes}};
}

SandboxOutcome stageRunnerOutcome(ProcessOutcome po, std::string isolation_failure) {
  SandboxOutcome out;
  out.wall = po.wall;
  out.cpu_ms = po.cpu_ms;
  out.peak_memory_bytes = po.max_rss_bytes;
  out.exit_code = po.exit_code;
  out.signal = po.signal;
  if (po.status_text.size() > kStagePipe) out.stage_report = std::move(po.status_text[kStagePipe]);
  if (po.status_text.size() > kCollectPipe) {
    out.collected = parseCollectedOutput(po.status_text[kCollectPipe]);
    if (po.status_overflowed.size() > kCollectPipe && po.status_overflowed[kCollectPipe]) {
      out.collected.problem = "more was sent back than the report and artifact budgets";
    }
  }
  out.end = endOf(po, out, isolation_failure);
  if (!po.started) {
    out.setup_error = po.spawn_error;
  } else if (!po.gate_refusal.empty()) {
    out.setup_error = "the job's network could not be set up: " + po.gate_refusal;
  } else if (out.end == SandboxOutcome::End::kSetupFailed) {
    out.setup_error = std::move(isolation_failure);
  }
  out.stdout_text = std::move(po.stdout_text);
  out.stderr_text = std::move(po.stderr_text);
  return out;
}

}  // namespace testfleet::worker
