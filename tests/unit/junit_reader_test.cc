#include <doctest/doctest.h>

#include "common/junit_reader.h"

using namespace testfleet;

TEST_CASE("pytest-style JUnit XML gives one case per test with its status") {
  const char* xml = R"(<?xml version="1.0"?>
<testsuites><testsuite name="pytest" tests="4">
  <testcase classname="test_m" name="test_ok" time="0.010"/>
  <testcase classname="test_m" name="test_bad" time="1.5"><failure message="assert 1 == 2">trace here</failure></testcase>
  <testcase classname="test_m" name="test_skip" time="0"><skipped message="not today"/></testcase>
  <testcase classname="test_m" name="test_err" time="0"><error message="fixture broke"/></testcase>
</testsuite></testsuites>)";
  JunitParse p = readJunit(xml);
  CHECK(p.error.empty());
  REQUIRE(p.cases.size() == 4);
  CHECK(p.cases[0].status() == v1::PASSED);
  CHECK(p.cases[0].duration_ms() == 10);
  CHECK(p.cases[1].status() == v1::FAILED);
  CHECK(p.cases[1].message() == "assert 1 == 2");
  CHECK(p.cases[1].details() == "trace here");
  CHECK(p.cases[1].duration_ms() == 1500);
  CHECK(p.cases[2].status() == v1::SKIPPED);
  CHECK(p.cases[3].status() == v1::FAILED);
  CHECK(p.cases[3].message() == "error: fixture broke");
}

TEST_CASE("a single <testsuite> root and nested suites are read") {
  JunitParse p = readJunit(R"(<testsuite><testsuite><testcase name="a"/></testsuite><testcase name="b"/></testsuite>)");
  CHECK(p.error.empty());
  CHECK(p.cases.size() == 2);
}

TEST_CASE("bad reports are refused with a reason") {
  CHECK(readJunit("<testsuites><testcase").error.find("not valid XML") != std::string::npos);
  CHECK(readJunit("<html/>").error.find("root is <html>") != std::string::npos);
  JunitLimits small;
  small.max_bytes = 10;
  CHECK(readJunit("<testsuites></testsuites>", small).error.find("over the limit") != std::string::npos);
  small = {};
  small.max_cases = 1;
  JunitParse p = readJunit("<testsuite><testcase name='a'/><testcase name='b'/></testsuite>", small);
  CHECK(p.cases.size() == 1);
  CHECK(p.error.find("dropped 1") != std::string::npos);
}

TEST_CASE("nonsense durations are clamped, not trusted") {
  JunitParse p = readJunit(R"(<testsuite><testcase name="a" time="-5"/><testcase name="b" time="nan"/></testsuite>)");
  REQUIRE(p.cases.size() == 2);
  CHECK(p.cases[0].duration_ms() == 0);
  CHECK(p.cases[1].duration_ms() == 0);
}

TEST_CASE("<error> is an errored failure; GoogleTest's disabled tests are skipped") {
  auto parsed = testfleet::readJunit(R"(<testsuites><testsuite name="S">
    <testcase name="a" classname="S"><error message="boom">trace</error></testcase>
    <testcase name="DISABLED_b" classname="S" status="notrun" result="suppressed"/>
    <testcase name="c" classname="S"><failure message="no"/></testcase></testsuite></testsuites>)");
  REQUIRE(parsed.cases.size() == 3);
  CHECK(parsed.cases[0].status() == testfleet::v1::FAILED);
  CHECK(parsed.cases[0].errored());
  CHECK(parsed.cases[1].status() == testfleet::v1::SKIPPED);
  CHECK_FALSE(parsed.cases[2].errored());
}

TEST_CASE("a report declared ISO-8859-1 is read in its encoding; a long message is cut between characters") {
  JunitParse latin1 = readJunit(
      "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n"
      "<testsuite><testcase name=\"caf\xe9\"><failure message=\"na\xefve\"/></testcase></testsuite>");
  CHECK(latin1.error.empty());
  REQUIRE(latin1.cases.size() == 1);
  CHECK(latin1.cases[0].name() == "caf\xc3\xa9");
  CHECK(latin1.cases[0].message() == "na\xc3\xafve");

  std::string long_message;
  for (int i = 0; i < 5000; ++i) long_message += "\xc3\xa9";
  JunitParse cut =
      readJunit("<testsuite><testcase name=\"t\"><failure message=\"x" + long_message + "\"/></testcase></testsuite>");
  REQUIRE(cut.cases.size() == 1);
  CHECK(cut.cases[0].message().find("testfleet cut") != std::string::npos);
  CHECK(cut.cases[0].message().find("\xef\xbf\xbd") == std::string::npos);
}

TEST_CASE("a case's file, line, failure type and own output are kept; a passing case's output is not") {
  JunitParse p = readJunit(R"(<testsuite>
  <testcase classname="test_m" name="test_bad" file="tests/test_m.py" line="12" time="0.1">
    <failure message="assert 1 == 2" type="AssertionError">trace</failure>
    <system-out>printed</system-out><system-err>warned</system-err>
  </testcase>
  <testcase name="test_ok" file="tests/test_m.py" line="20"><system-out>chatter</system-out></testcase>
</testsuite>)");
  REQUIRE(p.cases.size() == 2);
  CHECK(p.cases[0].file() == "tests/test_m.py");
  CHECK(p.cases[0].line() == 12);
  CHECK(p.cases[0].type() == "AssertionError");
  CHECK(p.cases[0].system_out() == "printed");
  CHECK(p.cases[0].system_err() == "warned");
  CHECK(p.cases[1].line() == 20);
  CHECK(p.cases[1].system_out().empty());
}

// Reports captured from the frameworks here (pytest 9.2 on Python 3.11, unittest's loader through
// unittest_runner.py, node 20.20's junit reporter), paths as in the sandbox.
TEST_CASE("a collection or import error is an errored case carrying the exception") {
  // pytest, exit 2: "ERROR collecting test_b.py".
  JunitParse pytest = readJunit(
      R"(<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="1" failures="0" skipped="0" tests="1" time="0.938"><testcase classname="" name="test_b" file="test_b.py" time="0.000"><error message="collection failure">ImportError while importing test module '/work/test_b.py'.
Hint: make sure your test modules/packages have valid Python names.
Traceback:
/usr/lib/python3.11/importlib/__init__.py:126: in import_module
    return _bootstrap._gcd_import(name[level:], package, level)
test_b.py:1: in &lt;module&gt;
    import no_such_module_xyz
E   ModuleNotFoundError: No module named 'no_such_module_xyz'</error></testcase></testsuite></testsuites>)");
  REQUIRE(pytest.cases.size() == 1);
  CHECK(pytest.cases[0].status() == v1::FAILED);
  CHECK(pytest.cases[0].errored());
  CHECK(pytest.cases[0].message() ==
        "error: collection failure: ModuleNotFoundError: No module named 'no_such_module_xyz'");

  // unittest: unittest.loader._FailedTest.
  JunitParse unittest = readJunit(R"(<?xml version='1.0' encoding='utf-8'?>
<testsuite name="unittest" tests="2"><testcase classname="test_a.T" name="test_a" time="0.000" /><testcase classname="unittest.loader" name="test_b" time="0.000"><error message="ImportError: Failed to import test module: test_b&#10;Traceback (most recent call last):&#10;  File &quot;/usr/lib/python3.11/unittest/loader.py&quot;, line 162, in loadTestsFromName&#10;    module = __import__(module_name)&#10;  File &quot;/work/test_b.py&quot;, line 1, in &lt;module&gt;&#10;    import no_such_module_xyz&#10;ModuleNotFoundError: No module named 'no_such_module_xyz'&#10;">ImportError: Failed to import test module: test_b
Traceback (most recent call last):
  File "/usr/lib/python3.11/unittest/loader.py", line 162, in loadTestsFromName
    module = __import__(module_name)
  File "/work/test_b.py", line 1, in &lt;module&gt;
    import no_such_module_xyz
ModuleNotFoundError: No module named 'no_such_module_xyz'

</error></testcase></testsuite>)");
  REQUIRE(unittest.cases.size() == 2);
  CHECK_FALSE(unittest.cases[0].errored());
  CHECK(unittest.cases[1].errored());
  CHECK(unittest.cases[1].message().starts_with("error: ImportError: Failed to import test module: test_b\n"));
  CHECK(unittest.cases[1].message().find("ModuleNotFoundError: No module named 'no_such_module_xyz'") !=
        std::string::npos);

  // node --test: a file that throws while loading is a failing case named after the file; the exception itself is
  // only in the output (the result builder adds it).
  JunitParse node = readJunit(R"(<?xml version="1.0" encoding="utf-8"?>
<testsuites>
	<testcase name="a" time="0.001111" classname="test"/>
	<testcase name="/work/b.test.js" time="0.459235" classname="test" failure="test failed">
		<failure type="testCodeFailure" message="test failed">
[Error: test failed] { code: 'ERR_TEST_FAILURE', failureType: 'testCodeFailure', cause: 'test failed', exitCode: 1, signal: null }
		</failure>
	</testcase>
	<testcase name="fails" time="0.001" classname="test">
		<failure type="testCodeFailure" message="Expected values to be strictly equal:1 !== 2">
Error [ERR_TEST_FAILURE]: Expected values to be strictly equal:

1 !== 2

    at AsyncResource.runInAsyncScope (node:async_hooks:206:9) {
  code: 'ERR_TEST_FAILURE',
  failureType: 'testCodeFailure',
  cause: AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:
      at TestContext.&lt;anonymous> (/work/d.test.js:3:30) {
    code: 'ERR_ASSERTION',
    operator: 'strictEqual'
  }
}
		</failure>
	</testcase>
</testsuites>)");
  REQUIRE(node.cases.size() == 3);
  CHECK_FALSE(node.cases[0].errored());
  CHECK(node.cases[1].status() == v1::FAILED);
  CHECK(node.cases[1].errored());
  CHECK(node.cases[1].message() == "error: the test file failed to load (exit code 1)");
  CHECK(node.cases[2].status() == v1::FAILED);  // an assertion in a test: failed, not errored
  CHECK_FALSE(node.cases[2].errored());
}
