#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>

#include "aggregator/storage/sqlite_result_store.h"
#include "tests/unit/temp_db.h"

using namespace testfleet;
using namespace testfleet::aggregator;
using testfleet::testing::TempDb;
namespace fs = std::filesystem;

namespace {
v1::RunManifest manifest(const std::string& run, int jobs) {
  v1::RunManifest m;
  m.set_schema_version(1);
  m.set_run_id(run);
  m.set_suite_name("s");
  m.set_expected_jobs(jobs);
  m.set_submitted_at_ms(1000);
  return m;
}
v1::Result result(const std::string& run, const std::string& job, int attempt, v1::Verdict v) {
  v1::Result r;
  r.set_schema_version(1);
  r.set_run_id(run);
  r.set_job_id(job);
  r.set_name(job);
  r.set_attempt(attempt);
  r.set_verdict(v);
  r.set_final(true);
  return r;
}
}  // namespace

TEST_CASE("a result stored twice changes nothing, and a run completes when every job has a final result") {
  TempDb tmp;
  SqliteResultStore store(tmp.path);
  kafka::TopicPartition tp{"r", 0};
  store.commitBatch({}, {manifest("run", 2)}, {{tp, 1}}, 2000);
  auto fresh = store.commitBatch({result("run", "a", 1, v1::PASSED), result("run", "a", 1, v1::PASSED)}, {},
                                 {{tp, 3}}, 3000);
  CHECK(fresh.size() == 1);
  CHECK(store.resultRows("run") == 1);
  CHECK_FALSE(store.run("run")->complete());
  fresh = store.commitBatch({result("run", "a", 1, v1::PASSED), result("run", "b", 1, v1::FAILED)}, {}, {{tp, 5}},
                            4000);
  CHECK(fresh.size() == 1);
  auto run = store.run("run");
  REQUIRE(run);
  CHECK(run->complete());
  CHECK(run->completed_at_ms == 4000);
  CHECK(run->verdict().jobs_done == 2);
  CHECK(run->verdict().jobs_failing == 1);
  CHECK(store.finalResults("run").size() == 2);
  CHECK(store.positions().at(tp) == 5);
}

TEST_CASE("positions and results survive reopening the file") {
  TempDb tmp;
  kafka::TopicPartition tp{"r", 2};
  {
    SqliteResultStore store(tmp.path);
    store.commitBatch({result("x", "a", 1, v1::PASSED)}, {manifest("x", 1)}, {{tp, 42}}, 10);
  }
  SqliteResultStore again(tmp.path);
  CHECK(again.positions().at(tp) == 42);
  CHECK(again.run("x")->complete());
  CHECK(again.listRuns(10).size() == 1);
}

TEST_CASE("results that arrive before their manifest are kept and complete the run when it arrives") {
  TempDb tmp;
  SqliteResultStore store(tmp.path);
  store.commitBatch({result("late", "a", 1, v1::PASSED)}, {}, {}, 10);
  CHECK_FALSE(store.run("late"));
  store.commitBatch({}, {manifest("late", 1)}, {}, 20);
  CHECK(store.run("late")->complete());
}

TEST_CASE("a file that is not a database is an error naming it") {
  fs::path bad = fs::temp_directory_path() / ("tf-notdb-" + std::to_string(::getpid()));
  fs::create_directories(bad);
  CHECK_THROWS_WITH_AS(SqliteResultStore(bad / "missing-dir" / "x.db"), doctest::Contains("missing-dir"),
                       std::runtime_error);
  fs::remove_all(bad);
}

TEST_CASE("history: mean duration per job and per test file over the suite's completed runs") {
  TempDb db;
  SqliteResultStore store(db.path.string());
  const kafka::TopicPartition tp{"results", 0};
  auto timed = [](const std::string& run, const std::string& job, uint32_t ms, std::vector<std::string> files) {
    v1::Result r = result(run, job, 1, v1::PASSED);
    r.mutable_usage()->set_wall_ms(ms);
    for (auto& f : files) r.add_tests(f);
    return r;
  };
  store.commitBatch({timed("r1", "a", 1000, {"test_a.py"}), timed("r1", "g", 600, {"test_b.py", "test_c.py"})},
                    {manifest("r1", 2)}, {{tp, 1}}, 10);
  store.commitBatch({timed("r2", "a", 3000, {"test_a.py"})}, {manifest("r2", 2)}, {{tp, 2}}, 20);  // incomplete
  auto jobs = store.jobDurations("s", 10);
  CHECK(jobs.at("a") == 1000);  // the unfinished run r2 does not count
  auto tests = store.testDurations("s", 10);
  CHECK(tests.at("test_a.py") == 1000);
  CHECK(tests.at("test_b.py") == 300);  // a group's time shared evenly when its cases do not say
  CHECK(store.testDurations("other suite", 10).empty());
}
