#include <doctest/doctest.h>

#include "worker/result_builder.h"

using namespace testfleet;
using namespace testfleet::worker;
using End = SandboxOutcome::End;

namespace {
v1::Job job() {
  v1::Job j;
  j.set_name("job");
  j.set_timeout_ms(1000);
  return j;
}
v1::Result build(const Evidence& ev) {
  v1::Result r;
  buildResult(job(), ev, 1024, r);
  return r;
}
Evidence exited(int code) {
  Evidence ev;
  ev.sandbox.end = End::kExited;
  ev.sandbox.exit_code = code;
  ev.stages = parseStageLines("test exit " + std::to_string(code) + "\n");
  return ev;
}
}  // namespace

TEST_CASE("stage lines are parsed") {
  StageEnds e = parseStageLines("setup exit 0\ntest signal 9\nteardown exit 3\n");
  CHECK(e.setup_exit == 0);
  CHECK(e.test_signal == 9);
  CHECK_FALSE(e.test_exit);
  CHECK(e.teardown_exit == 3);
}

TEST_CASE("verdicts follow the evidence") {
  CHECK(build(exited(0)).verdict() == v1::PASSED);
  CHECK(build(exited(3)).verdict() == v1::FAILED);
  CHECK(build(exited(3)).exit_code() == 3);

  Evidence crash = exited(0);
  crash.stages = parseStageLines("test signal 11\n");
  v1::Result r = build(crash);
  CHECK(r.verdict() == v1::CRASHED);
  CHECK(r.signal() == 11);

  r = build(exited(139));  // the shell's way of saying its child died of SIGSEGV
  CHECK(r.verdict() == v1::CRASHED);
  CHECK(r.signal() == 11);
  CHECK(build(exited(130)).verdict() == v1::FAILED);  // SIGINT is not a crash: the test's own exit

  Evidence oom = exited(0);
  oom.stages = parseStageLines("test signal 9\n");
  oom.sandbox.oom_killed = true;
  CHECK(build(oom).verdict() == v1::OOM);

  Evidence flood = exited(0);
  flood.sandbox.end = End::kFlooded;
  CHECK(build(flood).verdict() == v1::FAILED);
  CHECK(build(flood).error().find("flood") != std::string::npos);

  Evidence timeout;
  timeout.sandbox.end = End::kTimedOut;
  CHECK(build(timeout).verdict() == v1::TIMEOUT);

  Evidence broken;
  broken.sandbox.end = End::kSetupFailed;
  broken.sandbox.setup_error = "bwrap: no namespaces";
  r = build(broken);
  CHECK(r.verdict() == v1::ERROR);
  CHECK(r.stage() == "sandbox");

  Evidence nospace = exited(0);
  nospace.stages = parseStageLines("workspace exit 1\n");
  r = build(nospace);
  CHECK(r.verdict() == v1::FAILED);
  CHECK(r.stage() == "workspace");

  Evidence setup = exited(0);
  setup.stages = parseStageLines("setup exit 2\n");
  r = build(setup);
  CHECK(r.verdict() == v1::FAILED);
  CHECK(r.stage() == "setup");
}

TEST_CASE("a JUnit report decides per-test verdicts; a clean exit with a failing case is FAILED") {
  Evidence ev = exited(0);
  ev.format = ReportFormat::kJunitXml;
  ev.report = R"(<testsuite><testcase name="a"/><testcase name="b"><failure message="no"/></testcase></testsuite>)";
  v1::Result r = build(ev);
  CHECK(r.verdict() == v1::FAILED);
  CHECK(r.cases_size() == 2);

  ev.report = R"(<testsuite><testcase name="a"><skipped/></testcase></testsuite>)";
  CHECK(build(ev).verdict() == v1::SKIPPED);

  Evidence none = exited(5);
  none.format = ReportFormat::kJunitXml;
  CHECK(build(none).verdict() == v1::FAILED);

  Evidence empty = exited(0);
  empty.format = ReportFormat::kJunitXml;
  empty.report = "<testsuite></testsuite>";
  CHECK(build(empty).verdict() == v1::FAILED);  // ran no tests
}

TEST_CASE("output is bounded in the result") {
  Evidence ev = exited(0);
  ev.sandbox.stdout_text = std::string(100000, 'o');
  CHECK(build(ev).stdout_tail().size() < 1200);
}

TEST_CASE("tests that could not be loaded: the job's case is errored and carries the exception") {
  // pytest 9.2, exit 4 and no report: a conftest that cannot import (its stderr, as captured here).
  Evidence conftest = exited(4);
  conftest.format = ReportFormat::kJunitXml;
  conftest.sandbox.stderr_text =
      "ImportError while loading conftest '/work/conftest.py'.\nconftest.py:1: in <module>\n"
      "    import no_such_module_xyz\nE   ModuleNotFoundError: No module named 'no_such_module_xyz'\n";
  v1::Result r = build(conftest);
  CHECK(r.verdict() == v1::FAILED);
  CHECK(r.error() ==
        "exit code 4 and no report was written: ModuleNotFoundError: No module named 'no_such_module_xyz'");
  REQUIRE(r.cases_size() == 1);
  CHECK(r.cases(0).errored());
  CHECK(r.cases(0).message() == "error: " + r.error());
  CHECK(r.cases(0).details() == conftest.sandbox.stderr_text);

  // Without an exception in the output it stays what it was: failed, not errored.
  Evidence silent = exited(4);
  silent.format = ReportFormat::kJunitXml;
  silent.sandbox.stderr_text = "usage: pytest [options]\n";
  r = build(silent);
  CHECK(r.error() == "exit code 4 and no report was written");
  CHECK_FALSE(r.cases(0).errored());

  // node --test: a file that threw while loading; the exception is in the output, next to the file's name.
  Evidence node = exited(1);
  node.format = ReportFormat::kJunitXml;
  node.report = R"(<testsuites><testcase name="a" time="0.001" classname="test"/>
<testcase name="/work/c.test.js" time="0.3" classname="test" failure="test failed"><failure type="testCodeFailure" message="test failed">
[Error: test failed] { code: 'ERR_TEST_FAILURE', failureType: 'testCodeFailure', cause: 'test failed', exitCode: 1, signal: null }
</failure></testcase></testsuites>)";
  node.sandbox.stdout_text =
      "/work/c.test.js:2\nthrow new Error('boom at load');\n^\n\nError: boom at load\n"
      "    at Object.<anonymous> (/work/c.test.js:2:7)\n\nNode.js v20.20.2\n";
  r = build(node);
  CHECK(r.verdict() == v1::FAILED);
  REQUIRE(r.cases_size() == 2);
  CHECK(r.cases(1).errored());
  CHECK(r.cases(1).message() == "error: the test file failed to load (exit code 1): Error: boom at load");

  // pytest's collection failure names its exception already (the JUnit reader added it): it is not added twice,
  // although pytest printed the same traceback under the test's name.
  Evidence collecting = exited(2);
  collecting.format = ReportFormat::kJunitXml;
  collecting.report =
      R"(<testsuites><testsuite><testcase classname="" name="test_b" file="test_b.py" time="0.000"><error message="collection failure">test_b.py:1: in &lt;module&gt;
    import no_such_module_xyz
E   ModuleNotFoundError: No module named 'no_such_module_xyz'</error></testcase></testsuite></testsuites>)";
  collecting.sandbox.stdout_text =
      "_____ ERROR collecting test_b.py _____\ntest_b.py:1: in <module>\n    import no_such_module_xyz\n"
      "E   ModuleNotFoundError: No module named 'no_such_module_xyz'\n1 error in 0.86s\n";
  r = build(collecting);
  REQUIRE(r.cases_size() == 1);
  CHECK(r.cases(0).message() == "error: collection failure: ModuleNotFoundError: No module named 'no_such_module_xyz'");
}
