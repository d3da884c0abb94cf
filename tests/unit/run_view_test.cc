#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "aggregator/reports/json_report.h"
#include "common/api/run_view.h"

using namespace testfleet;
using nlohmann::json;

namespace {

// A finished run with one retried job that has cases, listed tests and an artifact, and one plain job.
json writtenRun() {
  aggregator::RunInfo run;
  run.manifest.set_run_id("r1");
  run.manifest.set_suite_name("unit");
  run.manifest.set_expected_jobs(2);
  run.manifest.set_submitted_at_ms(1000);
  (*run.manifest.mutable_labels())["branch"] = "main";
  run.completed_at_ms = 5000;
  run.job_verdicts[v1::FAILED] = 1;
  run.job_verdicts[v1::PASSED] = 1;
  v1::Result failed;
  failed.set_job_id("j1");
  failed.set_name("math");
  failed.set_attempt(2);
  failed.set_verdict(v1::FAILED);
  failed.set_exit_code(-1);
  failed.set_signal(9);
  failed.set_stdout_tail("out");
  failed.mutable_usage()->set_peak_memory_bytes(5ull << 30);
  auto* c = failed.add_cases();
  c->set_name("adds");
  c->set_classname("Math");
  c->set_status(v1::FAILED);
  c->set_duration_ms(12);
  c->set_message("1 != 2");
  c->set_file("tests/math_test.py");
  c->set_line(17);
  failed.add_listed("Math.adds");
  auto* a = failed.add_artifacts();
  a->set_path("log.txt");
  a->set_size(10);
  v1::Result first = failed;
  first.set_attempt(1);
  first.set_verdict(v1::ERROR);
  first.set_error("sandbox set-up failed");
  v1::Result passed;
  passed.set_job_id("j2");
  passed.set_name("text");
  passed.set_attempt(1);
  passed.set_verdict(v1::PASSED);
  passed.mutable_environment()->set_sha256(std::string(64, 'e'));
  passed.mutable_environment()->add_packages("attrs==23.2.0");
  aggregator::Summary summary;
  summary.total = 1;
  summary.failed = 1;
  summary.success_rate = 0;
  summary.wall_ms = 4000;
  return aggregator::runJson(run, summary, {failed, passed}, {first, failed, passed});
}

}  // namespace

TEST_CASE("the aggregator's run view reads back into the shared type and writes the same JSON") {
  const json written = writtenRun();
  const api::RunView view = written.get<api::RunView>();
  CHECK(view.run_id == "r1");
  CHECK(view.labels.at("branch") == "main");
  CHECK(view.complete());
  CHECK(view.passed == false);
  REQUIRE(view.summary);
  CHECK(view.summary->retried_jobs == 1);
  REQUIRE(view.jobs);
  REQUIRE(view.jobs->size() == 2);
  const api::JobView& job = view.jobs->front();
  CHECK(job.exit_code == -1);
  CHECK(job.peak_memory_bytes == 5ull << 30);
  CHECK(job.cases.at(0).status == "failed");
  CHECK(job.cases.at(0).file == "tests/math_test.py");  // where the framework said the test is
  CHECK(job.cases.at(0).line == 17);
  CHECK(job.listed == std::vector<std::string>{"Math.adds"});
  CHECK(job.artifacts.at(0).path == "log.txt");
  CHECK(job.attempts.size() == 2);
  CHECK(view.jobs->back().attempts.empty());  // one attempt: no history written
  CHECK_FALSE(job.environment);               // written only for a job that declared one
  REQUIRE(view.jobs->back().environment);
  CHECK(view.jobs->back().environment->sha256 == std::string(64, 'e'));
  CHECK(view.jobs->back().environment->packages == std::vector<std::string>{"attrs==23.2.0"});
  CHECK_FALSE(view.jobs->back().environment->prepared);
  CHECK(json(view).dump() == written.dump());
}

TEST_CASE("the progress view (no summary, no verdict, no jobs) reads with those left unset") {
  json progress = writtenRun();
  progress.erase("summary");
  progress.erase("passed");
  progress.erase("jobs");
  auto view = api::parseRunView(progress.dump());
  REQUIRE(view);
  CHECK_FALSE(view->passed);
  CHECK_FALSE(view->summary);
  CHECK_FALSE(view->jobs);
  CHECK(view->jobs_done == 2);
  CHECK(json(*view).dump() == progress.dump());
}

TEST_CASE("a malformed run view is refused with the key that is wrong") {
  auto problem = [](const json& doc) {
    std::string why;
    CHECK_FALSE(api::parseRunView(doc.dump(), &why));
    return why;
  };
  std::string why;
  CHECK_FALSE(api::parseRunView("not json", &why));
  CHECK(why == "not a JSON object");
  CHECK_FALSE(api::parseRunView("[1, 2]"));
  CHECK(problem({{"jobs_done", "12"}}).find("'jobs_done' is not a whole number") != std::string::npos);
  CHECK(problem({{"jobs_done", -1}}).find("'jobs_done'") != std::string::npos);
  CHECK(problem({{"expected_jobs", 1ull << 33}}).find("'expected_jobs'") != std::string::npos);
  CHECK(problem({{"suite", 7}}).find("'suite' is not a string") != std::string::npos);
  CHECK(problem({{"suite", std::string(api::kMaxViewText + 1, 'x')}}).find("'suite' is over") != std::string::npos);
  CHECK(problem({{"labels", {{"k", 1}}}}).find("'labels'") != std::string::npos);
  CHECK(problem({{"passed", "yes"}}).find("'passed' is not true or false") != std::string::npos);
  CHECK(problem({{"summary", {{"success_rate", "high"}}}}).find("'success_rate'") != std::string::npos);
  CHECK(problem({{"jobs", {{{"cases", {{{"status", 3}}}}}}}}).find("'status'") != std::string::npos);
  CHECK(problem({{"jobs", {1}}}).find("not an object") != std::string::npos);
  CHECK(problem({{"jobs", {{{"listed", {1}}}}}}).find("'listed'") != std::string::npos);
}
