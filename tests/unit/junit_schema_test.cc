#include <doctest/doctest.h>

#include <pugixml.hpp>

#include <cstdio>
#include <fstream>
#include <regex>

#include "aggregator/reports/junit_report.h"
#include "tests/unit/temp_dir.h"

using namespace testfleet;
using namespace testfleet::aggregator;

namespace {

// A run with a case of every kind a report shows: passed, failed, flaky, skipped, errored, ERROR, OOM, TIMEOUT.
std::vector<v1::Result> everyKindOfResult() {
  v1::Result tests;
  tests.set_name("tests/test_math.py");
  tests.set_worker_id("worker-1");
  tests.set_verdict(v1::FAILED);
  tests.set_started_at_ms(1767225600123);  // 2026-01-01T00:00:00.123Z
  tests.set_stdout_tail("collected 5 items\n\x1b[31mFAILED\x1b[0m");
  tests.mutable_environment()->set_sha256(std::string(64, 'e'));
  tests.mutable_environment()->add_packages("attrs==23.2.0");
  tests.mutable_environment()->add_packages("tomli_w==1.0.0");
  auto add = [&](const std::string& name, v1::Verdict v, uint32_t ms, const std::string& message) {
    v1::TestCase* c = tests.add_cases();
    c->set_name(name);
    c->set_classname("test_math");
    c->set_status(v);
    c->set_duration_ms(ms);
    c->set_message(message);
    return c;
  };
  add("test_ok", v1::PASSED, 1234, "");
  v1::TestCase* failed = add("test_sum", v1::FAILED, 20, "assert 3 == 4");
  failed->set_details("def test_sum():\n>   assert 3 == 4");
  failed->set_type("AssertionError");
  failed->set_file("tests/test_math.py");
  failed->set_line(12);
  failed->set_system_out("printed by test_sum");
  add("test_flaky", v1::FLAKY, 3, "failed on attempt 1: boom")->set_details("Traceback: boom");
  add("test_later", v1::SKIPPED, 0, "not today");
  add("test_fixture", v1::FAILED, 1, "error: fixture broke")->set_errored(true);

  auto whole_job = [](const std::string& name, v1::Verdict v, const std::string& error, const std::string& tail) {
    v1::Result r;
    r.set_name(name);
    r.set_worker_id("worker-2");
    r.set_verdict(v);
    r.set_error(error);
    r.set_started_at_ms(1767225601000);
    r.set_stderr_tail(tail);
    v1::TestCase* c = r.add_cases();
    c->set_name(name);
    c->set_classname(name);
    c->set_status(v);
    c->set_duration_ms(5000);
    c->set_message(error);
    return r;
  };
  return {tests, whole_job("big_alloc", v1::OOM, "killed by the memory limit (64 MiB)", "allocating 1 GiB\n"),
          whole_job("sleepy", v1::TIMEOUT, "timed out after 5 s", "still waiting\x01\n"),
          whole_job("no_workspace", v1::ERROR, "workspace fetch failed: 404", "")};
}

RunInfo labelledRun() {
  RunInfo info;
  info.manifest.set_run_id("run-1");
  info.manifest.set_suite_name("every kind");
  info.manifest.set_expected_jobs(4);
  info.manifest.set_submitted_at_ms(1767225599000);
  (*info.manifest.mutable_labels())["branch"] = "main";
  (*info.manifest.mutable_labels())["commit"] = "abc123";
  info.completed_at_ms = 1767225610000;
  return info;
}

struct Validation {
  int status = -1;
  std::string output;  // xmllint's stdout and stderr
};

// `xmllint --noout --schema xsd file`: its exit status and what it said.
Validation xmllint(const std::filesystem::path& xsd, const std::filesystem::path& file) {
  Validation v;
  const std::string command = "xmllint --noout --schema '" + xsd.string() + "' '" + file.string() + "' 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE_MESSAGE(pipe, "cannot run xmllint (libxml2-utils; scripts/bootstrap.sh installs it)");
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) v.output.append(buffer, n);
  const int status = ::pclose(pipe);
  v.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return v;
}

void write(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

const std::filesystem::path kSchemas = TESTFLEET_JUNIT_SCHEMAS;

}  // namespace

TEST_CASE("the merged JUnit report is valid against Jenkins xUnit's junit-10.xsd and Surefire's 3.0 schema") {
  testing::TempDir dir("junit-schema");
  std::filesystem::create_directories(dir.path);
  const std::string xml = junitReport(labelledRun(), everyKindOfResult());
  write(dir.path / "junit.xml", xml);
  Validation jenkins = xmllint(kSchemas / "junit-10.xsd", dir.path / "junit.xml");
  INFO(xml);
  CHECK_MESSAGE(jenkins.status == 0, jenkins.output);
  // Surefire's schema has only <testsuite> as a root (one file per suite): each suite is checked on its own.
  pugi::xml_document doc;
  REQUIRE(doc.load_string(xml.c_str()));
  int n = 0;
  for (pugi::xml_node suite : doc.child("testsuites").children("testsuite")) {
    pugi::xml_document alone;
    alone.append_copy(suite);
    const auto file = dir.path / ("suite-" + std::to_string(++n) + ".xml");
    alone.save_file(file.c_str(), "  ");
    Validation surefire = xmllint(kSchemas / "surefire-test-report-3.0.xsd", file);
    CHECK_MESSAGE(surefire.status == 0, surefire.output);
  }
  CHECK(n == 4);
  // The job that declared an environment says which, and with what packages; the others have no such property.
  CHECK(doc.select_nodes("//property[@name='environment']").size() == 1);
  CHECK(std::string(doc.select_node("//property[@name='environment']").node().attribute("value").value()) ==
        std::string(64, 'e'));
  CHECK(std::string(doc.select_node("//property[@name='environment.packages']").node().attribute("value").value()) ==
        "attrs==23.2.0 tomli_w==1.0.0");
}

TEST_CASE("a schema check fails on a report a schema does not allow") {
  testing::TempDir dir("junit-schema-bad");
  std::filesystem::create_directories(dir.path);
  write(dir.path / "bad.xml", R"(<testsuites skipped="0"><testsuite name="s" tests="1" failures="1" errors="0">
<testcase name="t" time="0.30000000000000004"><failure message="m"/></testcase></testsuite></testsuites>)");
  CHECK(xmllint(kSchemas / "junit-10.xsd", dir.path / "bad.xml").status != 0);
}

TEST_CASE("the merged JUnit report says what failed in the element body, with a type, times to the millisecond") {
  pugi::xml_document doc;
  REQUIRE(doc.load_string(junitReport(labelledRun(), everyKindOfResult()).c_str()));
  auto root = doc.child("testsuites");
  auto find = [&](const char* name) {
    return root.select_node(("//testcase[@name='" + std::string(name) + "']").c_str()).node();
  };

  // Times: three decimals, nothing like 0.30000000000000004.
  std::regex millis(R"(\d+\.\d{3})");
  for (auto time : doc.select_nodes("//@time")) CHECK(std::regex_match(time.attribute().value(), millis));
  CHECK(std::string(find("test_ok").attribute("time").value()) == "1.234");

  auto failure = find("test_sum").child("failure");
  CHECK(std::string(failure.attribute("type").value()) == "AssertionError");  // the framework's type
  CHECK(std::string(failure.attribute("message").value()) == "assert 3 == 4");
  const std::string failure_body = failure.text().get();
  CHECK(failure_body.find("assert 3 == 4") != std::string::npos);
  CHECK(failure_body.find(">   assert 3 == 4") != std::string::npos);
  CHECK(failure_body.find("tests/test_math.py:12") != std::string::npos);  // where the framework said it is
  CHECK(std::string(find("test_sum").child("system-out").text().get()) == "printed by test_sum");

  auto flaky = find("test_flaky").child("flakyFailure");
  CHECK(std::string(flaky.attribute("type").value()) == "flaky");
  CHECK(std::string(flaky.child("stackTrace").text().get()).find("Traceback: boom") != std::string::npos);

  CHECK(std::string(find("test_fixture").child("error").attribute("type").value()) == "failed");
  CHECK(find("test_later").child("skipped"));

  // A whole-job verdict: the verdict as its type, the message and the job's output tail in the body.
  auto oom = find("big_alloc").child("error");
  CHECK(std::string(oom.attribute("type").value()) == "oom");
  CHECK(std::string(oom.text().get()).find("killed by the memory limit (64 MiB)") != std::string::npos);
  CHECK(std::string(oom.text().get()).find("allocating 1 GiB") != std::string::npos);
  CHECK(std::string(find("big_alloc").child("system-err").text().get()) == "allocating 1 GiB\n");
  auto timeout = find("sleepy").child("error");
  CHECK(std::string(timeout.attribute("type").value()) == "timeout");
  CHECK(std::string(timeout.text().get()).find("still waiting\\x01") != std::string::npos);
  CHECK(std::string(find("no_workspace").child("error").text().get()) == "workspace fetch failed: 404");

  // Run labels, the job's start and its worker as properties of each suite.
  auto suite = root.child("testsuite");
  auto property = [&](const char* name) {
    return std::string(suite.select_node(("properties/property[@name='" + std::string(name) + "']").c_str())
                           .node()
                           .attribute("value")
                           .value());
  };
  CHECK(property("branch") == "main");
  CHECK(property("commit") == "abc123");
  CHECK(property("timestamp") == "2026-01-01T00:00:00.123Z");
  CHECK(property("hostname") == "worker-1");
  CHECK(std::string(root.attribute("tests").value()) == "8");
  CHECK(std::string(root.attribute("errors").value()) == "4");
}
