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
