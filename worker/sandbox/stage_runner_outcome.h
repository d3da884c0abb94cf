// How a Sandbox reads the stage runner's process: the pipes it asks runProcess for, and the SandboxOutcome it makes of
// what came back. BubblewrapSandbox and UnsandboxedRunner both start the stage runner, so both go through here.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "worker/sandbox/process.h"
#include "worker/sandbox/sandbox.h"

namespace testfleet::worker {

// The worker's own deadline comes this long after the stage runner's, which ends a job that ran out of time itself
// and still sends back what its framework reported.
inline constexpr auto kWorkerDeadlineGrace = std::chrono::seconds(10);

// The status pipes, in the order stageRunnerOutcome reads them: the isolation's own status (stage_runner_fds.h
// kIsolationStatus, `isolation_status_bytes` kept), the stage lines, and the collect stream (`collect_bytes`).
std::vector<StatusPipe> stageRunnerPipes(size_t isolation_status_bytes, size_t collect_bytes);

// Pure. Moves what the process reported into an outcome and decides how it ended, first match wins: not started,
// a refused gate (kSetupFailed), a deadline (the worker's, or the stage runner's own "timeout" line), cancelled,
// flooded, `isolation_failure` (why the isolation around the stage runner did not come up although the process ran;
// "" when it did or there is none: kSetupFailed), killed by a signal, exited.
SandboxOutcome stageRunnerOutcome(ProcessOutcome po, std::string isolation_failure);

}  // namespace testfleet::worker
