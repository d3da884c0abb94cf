#include <doctest/doctest.h>

#include <pugixml.hpp>

#include "aggregator/reports/junit_report.h"
#include "aggregator/reports/summary.h"
#include "aggregator/reports/text_reports.h"

using namespace testfleet;
using namespace testfleet::aggregator;

namespace {
v1::Result job(const std::string& name, std::vector<std::pair<v1::Verdict, uint32_t>> cases) {
  v1::Result r;
  r.set_name(name);
  r.set_verdict(v1::PASSED);
  for (auto [v, ms] : cases) {
    auto* c = r.add_cases();
    c->set_name(name + std::to_string(r.cases_size()));
    c->set_status(v);
    c->set_duration_ms(ms);
    c->set_message("why\x01");
    if (v != v1::PASSED && v != v1::SKIPPED) r.set_verdict(v);
  }
  return r;
}
// A run expecting `jobs`, completed at `completed` (0: running), whose jobs ended with `verdicts`.
RunInfo run(int jobs, int64_t completed, std::map<v1::Verdict, uint32_t> verdicts = {}) {
  RunInfo info;
  info.job_verdicts = std::move(verdicts);
  info.manifest.set_suite_name("s");
  info.manifest.set_expected_jobs(jobs);
  info.manifest.set_submitted_at_ms(1000);
  info.completed_at_ms = completed;
  return info;
}
}  // namespace

TEST_CASE("summary counts cases, rates exclude skipped, times add up") {
  std::vector<v1::Result> results{job("a", {{v1::PASSED, 100}, {v1::FAILED, 300}, {v1::SKIPPED, 0}}),
                                  job("b", {{v1::PASSED, 200}}), job("c", {{v1::TIMEOUT, 1000}})};
  Summary s = summarise(run(3, 5000), results, 9999);
  CHECK(s.total == 5);
  CHECK(s.passed == 2);
  CHECK(s.failed == 1);
  CHECK(s.skipped == 1);
  CHECK(s.timeout == 1);
  CHECK(s.success_rate == doctest::Approx(50.0));
  CHECK(s.total_ms == doctest::Approx(1600));
  CHECK(s.avg_ms == doctest::Approx(320));
  CHECK(s.wall_ms == doctest::Approx(4000));
  CHECK(s.jobs == 3);
}

TEST_CASE("a run passes only when complete with no failing verdict") {
  std::vector<v1::Result> ok{job("a", {{v1::PASSED, 1}, {v1::SKIPPED, 0}})};
  CHECK(summarise(run(1, 2000, {{v1::PASSED, 1}}), ok, 0).passed_run);
  CHECK_FALSE(summarise(run(1, 0, {{v1::PASSED, 1}}), ok, 0).passed_run);                       // still running
  CHECK_FALSE(summarise(run(2, 2000, {{v1::PASSED, 1}}), ok, 0).passed_run);                    // a job missing
  CHECK_FALSE(summarise(run(2, 2000, {{v1::PASSED, 1}, {v1::TIMEOUT, 1}}), ok, 0).passed_run);  // a job failing
  CHECK(summarise(run(0, 2000), {}, 0).success_rate == doctest::Approx(100.0));
}

TEST_CASE("the JUnit report parses and its counts match the summary") {
  std::vector<v1::Result> results{job("a", {{v1::PASSED, 100}, {v1::FAILED, 300}, {v1::SKIPPED, 0}}),
                                  job("b", {{v1::CRASHED, 5}, {v1::OOM, 7}})};
  RunInfo info = run(2, 3000);
  Summary s = summarise(info, results, 0);
  std::string xml = junitReport(info, results);
  pugi::xml_document doc;
  REQUIRE(doc.load_string(xml.c_str()));
  pugi::xml_node root = doc.child("testsuites");
  CHECK(root.attribute("tests").as_int() == s.total);
  CHECK(root.attribute("failures").as_int() == s.failed);
  CHECK(root.attribute("errors").as_int() == s.crashed + s.oom);
  int cases = 0, skipped = 0;  // junit-10.xsd has no testsuites@skipped: the suites' skipped add up to the summary's
  for (auto suite : root.children("testsuite")) {
    cases += static_cast<int>(std::distance(suite.children("testcase").begin(), suite.children("testcase").end()));
    skipped += suite.attribute("skipped").as_int();
  }
  CHECK(cases == s.total);
  CHECK(skipped == s.skipped);
  CHECK(xml.find('\x01') == std::string::npos);  // control characters are escaped
}

TEST_CASE("makespan against its lower bound from the peak of busy slots") {
  auto timed = [](int64_t start, int64_t end) {
    v1::Result r;
    r.set_started_at_ms(1000 + start);
    r.set_finished_at_ms(1000 + end);
    return r;
  };
  // Two slots: [0,100] [0,40] [40,70] [70,130]: peak 2, work 230, longest 100 → bound 115; makespan 130.
  std::vector<v1::Result> results{timed(0, 100), timed(0, 40), timed(40, 70), timed(70, 130)};
  Summary s = summarise(run(4, 200), results, 0);
  CHECK(s.peak_slots == 2);
  CHECK(s.makespan_ms == doctest::Approx(130));
  CHECK(s.lower_bound_ms == doctest::Approx(115));
}

TEST_CASE("a test that failed by an error is an <error> in JUnit and says so in the Markdown and HTML") {
  std::vector<v1::Result> results{job("a", {{v1::FAILED, 10}, {v1::FAILED, 20}})};
  results[0].mutable_cases(1)->set_errored(true);
  RunInfo info = run(1, 3000);
  Summary s = summarise(info, results, 0);
  pugi::xml_document doc;
  REQUIRE(doc.load_string(junitReport(info, results).c_str()));
  auto root = doc.child("testsuites");
  CHECK(root.attribute("failures").as_int() == 1);
  CHECK(root.attribute("errors").as_int() == 1);
  auto second = *std::next(root.child("testsuite").children("testcase").begin());
  CHECK(second.child("error"));
  CHECK_FALSE(second.child("failure"));
  CHECK(markdownReport(info, s, results).find("failed (error)") != std::string::npos);
  CHECK(htmlReport(info, s, results).find("failed (error)") != std::string::npos);
}

TEST_CASE("a run with no jobs did not pass: nothing ran") { CHECK_FALSE(summarise(run(0, 2000), {}, 0).passed_run); }
