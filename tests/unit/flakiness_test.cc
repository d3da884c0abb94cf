#include <doctest/doctest.h>

#include <pugixml.hpp>

#include "aggregator/reports/flakiness.h"
#include "aggregator/reports/junit_report.h"
#include "aggregator/reports/summary.h"

using namespace testfleet;
using namespace testfleet::aggregator;

namespace {
v1::Result attempt(int n, bool final, v1::Verdict job, std::vector<std::pair<std::string, v1::Verdict>> cases) {
  v1::Result r;
  r.set_job_id("j");
  r.set_name("job");
  r.set_attempt(n);
  r.set_final(final);
  r.set_verdict(job);
  for (auto& [name, v] : cases) {
    auto* c = r.add_cases();
    c->set_name(name);
    c->set_classname("k");
    c->set_status(v);
    if (v == v1::FAILED) {
      c->set_message("boom " + std::to_string(n));
      c->set_type("AssertionError");
      c->set_system_out("out " + std::to_string(n));
    }
  }
  return r;
}
}  // namespace

TEST_CASE("failed then passed is FLAKY, for the job and for the cases that failed") {
  std::vector<v1::Result> attempts{attempt(1, false, v1::FAILED, {{"a", v1::PASSED}, {"b", v1::FAILED}}),
                                   attempt(2, true, v1::PASSED, {{"a", v1::PASSED}, {"b", v1::PASSED}})};
  std::vector<v1::Result> finals{attempts[1]};
  markFlaky(finals, attempts);
  CHECK(finals[0].verdict() == v1::FLAKY);
  CHECK(finals[0].cases(0).status() == v1::PASSED);
  CHECK(finals[0].cases(1).status() == v1::FLAKY);
  CHECK(finals[0].cases(1).message() == "failed on attempt 1: boom 1");

  RunInfo run;
  run.manifest.set_expected_jobs(1);
  run.completed_at_ms = 10;
  run.job_verdicts = {{finals[0].verdict(), 1}};  // as the store counts it
  Summary s = summarise(run, finals, 0);
  CHECK(s.flaky == 1);
  CHECK(s.passed == 1);
  CHECK(s.passed_run);  // flaky does not fail the run…
  run.manifest.set_flaky_fails_run(true);
  CHECK_FALSE(summarise(run, finals, 0).passed_run);  // …unless the suite says so

  pugi::xml_document doc;
  REQUIRE(doc.load_string(junitReport(run, finals).c_str()));
  auto flaky = doc.select_node("//testcase[@name='b']/flakyFailure").node();
  CHECK(std::string(flaky.attribute("message").as_string()) == "failed on attempt 1: boom 1");
  CHECK(std::string(flaky.attribute("type").as_string()) == "AssertionError");  // the earlier failure's type
  CHECK(std::string(doc.select_node("//testcase[@name='b']/system-out").node().text().get()) == "out 1");
  CHECK(doc.child("testsuites").attribute("failures").as_int() == 0);
}

TEST_CASE("failing in every attempt stays FAILED; passing at once is not flaky") {
  std::vector<v1::Result> attempts{attempt(1, false, v1::FAILED, {{"b", v1::FAILED}}),
                                   attempt(2, true, v1::FAILED, {{"b", v1::FAILED}})};
  std::vector<v1::Result> finals{attempts[1]};
  markFlaky(finals, attempts);
  CHECK(finals[0].verdict() == v1::FAILED);
  std::vector<v1::Result> clean{attempt(1, true, v1::PASSED, {{"a", v1::PASSED}})};
  markFlaky(clean, clean);
  CHECK(clean[0].verdict() == v1::PASSED);
}
