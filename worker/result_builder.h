// Decides a job's verdict from evidence: how the sandbox ended, how each stage ended, and the framework's report.
// Pure, so every rule is unit-tested.
#pragma once

#include <optional>
#include <string>

#include "common/frameworks/framework.h"
#include "testfleet/v1/testfleet.pb.h"
#include "worker/sandbox/sandbox.h"

namespace testfleet::worker {

// How one stage ended, as the stage runner reported it ("test exit 1", "setup signal 9").
struct StageEnds {
  std::optional<int> workspace_exit;  // copying the job's files into the workspace
  std::optional<int> setup_exit, setup_signal;
  std::optional<int> test_exit, test_signal;
  std::optional<int> teardown_exit, teardown_signal;
};

StageEnds parseStageLines(const std::string& text);

struct Evidence {
  SandboxOutcome sandbox;
  StageEnds stages;
  ReportFormat format = ReportFormat::kNone;  // what the framework was to write
  std::optional<std::string> report;          // what it wrote, when it wrote anything
};

// A result that names the job it belongs to — ids, attempt, name, its tests — and the worker; the caller sets the
// rest.
v1::Result resultFor(const v1::Job& job, const std::string& worker_id);

// Fills verdict, cases, exit code/signal, output tails, usage, error and stage of `result`.
void buildResult(const v1::Job& job, const Evidence& evidence, size_t tail_bytes, v1::Result& result);

}  // namespace testfleet::worker
