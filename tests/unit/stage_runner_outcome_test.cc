#include <doctest/doctest.h>

#include <fstream>

#include "tests/unit/temp_dir.h"
#include "worker/sandbox/stage_runner_outcome.h"
#include "worker/sandbox/unsandboxed_runner.h"

using namespace testfleet::worker;
using End = SandboxOutcome::End;
namespace fs = std::filesystem;

namespace {
// A process that ran and exited 0, with the three status pipes read.
ProcessOutcome ranAndExited() {
  ProcessOutcome po;
  po.started = true;
  po.exit_code = 0;
  po.status_text = {"{\"child-pid\": 2}\n", "test exit 0\n", "end 0 0 0 0\n"};
  po.status_overflowed = {false, false, false};
  return po;
}
}  // namespace

TEST_CASE("the stage runner's process becomes an outcome: pipes read, ends decided first match first") {
  SandboxOutcome ok = stageRunnerOutcome(ranAndExited(), "");
  CHECK(ok.end == End::kExited);
  CHECK(ok.stage_report == "test exit 0\n");
  CHECK(ok.collected.complete);
  CHECK(ok.setup_error.empty());

  ProcessOutcome never = ranAndExited();
  never.started = false;
  never.spawn_error = "no such file";
  SandboxOutcome not_started = stageRunnerOutcome(never, "bubblewrap said nothing");
  CHECK(not_started.end == End::kSetupFailed);
  CHECK(not_started.setup_error == "no such file");

  ProcessOutcome refused = ranAndExited();
  refused.gate_refusal = "slirp4netns failed";
  refused.timed_out = true;
  CHECK(stageRunnerOutcome(refused, "").end == End::kSetupFailed);
  CHECK(stageRunnerOutcome(refused, "").setup_error.find("slirp4netns failed") != std::string::npos);

  ProcessOutcome own_deadline = ranAndExited();  // the stage runner ended the job itself
  own_deadline.status_text[1] = "test timeout 1000\n";
  own_deadline.cancelled = true;
  CHECK(stageRunnerOutcome(own_deadline, "").end == End::kTimedOut);

  ProcessOutcome cancelled = ranAndExited();
  cancelled.cancelled = true;
  cancelled.flooded = true;
  CHECK(stageRunnerOutcome(cancelled, "").end == End::kCancelled);

  ProcessOutcome flooded = ranAndExited();
  flooded.flooded = true;
  CHECK(stageRunnerOutcome(flooded, "no status").end == End::kFlooded);

  ProcessOutcome signalled = ranAndExited();
  signalled.signal = 9;
  SandboxOutcome unset_up = stageRunnerOutcome(signalled, "bubblewrap could not set up the sandbox: x");
  CHECK(unset_up.end == End::kSetupFailed);
  CHECK(unset_up.setup_error == "bubblewrap could not set up the sandbox: x");
  CHECK(stageRunnerOutcome(signalled, "").end == End::kSignaled);

  ProcessOutcome overflowed = ranAndExited();
  overflowed.status_overflowed[2] = true;
  CHECK(stageRunnerOutcome(overflowed, "").collected.problem.find("budgets") != std::string::npos);
}

TEST_CASE("the stage runner and the sandboxes that start it agree on its fd numbers") {
  testfleet::testing::TempDir dir("stage-fds");
  fs::create_directories(dir.path / "work");
  fs::create_directories(dir.path / "control");
  fs::create_directories(dir.path / "out");
  std::ofstream(dir.path / "control" / "test.sh") << "echo hi > /dev/null; echo '<r/>' > \"$TF_OUT/report\"\n";
  std::ofstream(dir.path / "control" / "artifacts.txt") << "*.log\n";
  std::ofstream(dir.path / "work" / "run.log") << "logged";
  UnsandboxedRunner runner(TESTFLEET_STAGE_RUNNER);
  SandboxSpec spec;
  spec.workspace = dir.path / "work";
  spec.control = dir.path / "control";
  spec.output = dir.path / "out";
  spec.artifact_bytes = 1024;
  spec.timeout = std::chrono::seconds(30);
  SandboxOutcome out = runner.run(spec);
  CHECK(out.end == End::kExited);
  CHECK(out.exit_code == 0);
  CHECK(out.stage_report == "test exit 0\nartifacts exit 0\n");
  CHECK(out.collected.complete);
  CHECK(out.collected.report == std::optional<std::string>("<r/>\n"));
  REQUIRE(out.collected.artifacts.size() == 1);
  CHECK(out.collected.artifacts[0].path == "run.log");
  CHECK(out.collected.artifacts[0].content == "logged");
}
