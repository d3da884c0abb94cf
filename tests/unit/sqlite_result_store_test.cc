#include <doctest/doctest.h>
#include <sqlite3.h>

#include <unistd.h>

#include <filesystem>

#include "aggregator/storage/sqlite_result_store.h"
#include "common/result_parts.h"
#include "tests/unit/temp_db.h"

using namespace testfleet;
using namespace testfleet::aggregator;
using testfleet::testing::TempDb;
namespace fs = std::filesystem;

namespace {
v1::RunManifest manifest(const std::string& run, const std::vector<std::string>& jobs) {
  v1::RunManifest m;
  m.set_schema_version(1);
  m.set_run_id(run);
  m.set_suite_name("s");
  m.set_expected_jobs(static_cast<uint32_t>(jobs.size()));
  for (const auto& job : jobs) m.add_job_ids(job);
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
  store.commitBatch({}, {manifest("run", {"a", "b"})}, {{tp, 1}}, 2000);
  auto fresh =
      store.commitBatch({result("run", "a", 1, v1::PASSED), result("run", "a", 1, v1::PASSED)}, {}, {{tp, 3}}, 3000)
          .fresh;
  CHECK(fresh.size() == 1);
  CHECK(store.resultRows("run") == 1);
  CHECK_FALSE(store.run("run")->complete());
  fresh = store.commitBatch({result("run", "a", 1, v1::PASSED), result("run", "b", 1, v1::FAILED)}, {}, {{tp, 5}}, 4000)
              .fresh;
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
    store.commitBatch({result("x", "a", 1, v1::PASSED)}, {manifest("x", {"a"})}, {{tp, 42}}, 10);
  }
  SqliteResultStore again(tmp.path);
  CHECK(again.positions().at(tp) == 42);
  CHECK(again.run("x")->complete());
  CHECK(again.listRuns({.limit = 10}).size() == 1);
}

TEST_CASE("results that arrive before their manifest are kept and complete the run when it arrives") {
  TempDb tmp;
  SqliteResultStore store(tmp.path);
  store.commitBatch({result("late", "a", 1, v1::PASSED)}, {}, {}, 10);
  CHECK_FALSE(store.run("late"));
  store.commitBatch({}, {manifest("late", {"a"})}, {}, 20);
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
                    {manifest("r1", {"a", "g"})}, {{tp, 1}}, 10);
  store.commitBatch({timed("r2", "a", 3000, {"test_a.py"})}, {manifest("r2", {"a", "g"})}, {{tp, 2}},
                    20);  // incomplete
  auto jobs = store.jobDurations("s", 10);
  CHECK(jobs.at("a") == 1000);  // the unfinished run r2 does not count
  auto tests = store.testDurations("s", 10);
  CHECK(tests.at("test_a.py") == 1000);
  CHECK(tests.at("test_b.py") == 300);  // a group's time shared evenly when its cases do not say
  CHECK(store.testDurations("other suite", 10).empty());
}

TEST_CASE("a result for a job the run's manifest does not list is kept out of the run and counted once") {
  TempDb tmp;
  SqliteResultStore store(tmp.path);
  // Before the manifest: stored, not yet judged.
  BatchOutcome early = store.commitBatch({result("run", "stranger", 1, v1::FAILED)}, {}, {}, 10);
  CHECK(early.fresh.size() == 1);
  CHECK(early.unknown_job.empty());
  // With the manifest: counted now, and it does not stand in for job a.
  BatchOutcome listed = store.commitBatch({}, {manifest("run", {"a"})}, {}, 20);
  CHECK(listed.unknown_job == std::map<std::string, size_t>{{"run", 1}});
  CHECK_FALSE(store.run("run")->complete());
  // After the manifest: counted on arrival.
  BatchOutcome late =
      store.commitBatch({result("run", "a", 1, v1::PASSED), result("run", "other", 1, v1::FAILED)}, {}, {}, 30);
  CHECK(late.unknown_job == std::map<std::string, size_t>{{"run", 1}});
  auto run = store.run("run");
  CHECK(run->complete());
  CHECK(run->verdict().passed);
  CHECK(run->verdict().jobs_done == 1);
  auto finals = store.finalResults("run");
  REQUIRE(finals.size() == 1);
  CHECK(finals[0].job_id() == "a");
  CHECK(store.allAttempts("run").size() == 1);
  CHECK(store.resultRows("run") == 3);  // nothing that arrived is lost
  // Arriving again (a redelivery) counts nothing twice.
  CHECK(store.commitBatch({result("run", "other", 1, v1::FAILED)}, {}, {}, 40).unknown_job.empty());
}

TEST_CASE("a second manifest for a run id does not replace the first, and is counted") {
  TempDb tmp;
  SqliteResultStore store(tmp.path);
  v1::RunManifest first = manifest("run", {"a"});
  v1::RunManifest second = manifest("run", {"b"});
  second.set_suite_name("impostor");
  second.set_submitted_at_ms(2000);
  CHECK(store.commitBatch({}, {first}, {}, 10).duplicate_manifest.empty());
  BatchOutcome again = store.commitBatch({result("run", "b", 1, v1::PASSED)}, {second}, {}, 20);
  CHECK(again.duplicate_manifest == std::vector<std::string>{"run"});
  CHECK(again.unknown_job == std::map<std::string, size_t>{{"run", 1}});
  auto run = store.run("run");
  CHECK(run->manifest.suite_name() == "s");
  CHECK_FALSE(run->complete());
  // The same manifest delivered twice is no second manifest.
  CHECK(store.commitBatch({}, {first}, {}, 30).duplicate_manifest.empty());
}

TEST_CASE("a database written before runs listed their jobs gets them listed from the stored manifests") {
  TempDb tmp;
  {
    SqliteResultStore store(tmp.path);
    store.commitBatch({result("old", "a", 1, v1::PASSED)}, {manifest("old", {"a"})}, {}, 10);
  }
  {
    // As an older aggregator left it: the run and its result, no listed jobs.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(tmp.path.c_str(), &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "DELETE FROM run_jobs", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  SqliteResultStore again(tmp.path);
  CHECK(again.finalResults("old").size() == 1);
  CHECK(again.run("old")->verdict().passed);
}

namespace {
// A final result of job `job` with `cases` passing cases, split into records of at most 256 KiB.
std::vector<v1::Result> inParts(const std::string& run, const std::string& job, int cases) {
  v1::Result r = result(run, job, 1, v1::PASSED);
  r.set_worker_id("w1");
  for (int i = 0; i < cases; ++i) {
    v1::TestCase* c = r.add_cases();
    c->set_name("test_" + std::to_string(i));
    c->set_classname("module");
    c->set_status(v1::PASSED);
  }
  return splitResult(r, 256 << 10);
}
}  // namespace

TEST_CASE("a result in parts counts once all its parts are stored, whatever the batches, and only once") {
  TempDb tmp;
  SqliteResultStore store(tmp.path);
  const kafka::TopicPartition tp{"r", 0};
  auto parts = inParts("run", "a", 50000);
  REQUIRE(parts.size() >= 4);
  store.commitBatch({result("run", "b", 1, v1::PASSED)}, {manifest("run", {"a", "b"})}, {{tp, 1}}, 10);
  // All parts but the last, each twice, over two batches: stored, and no result yet.
  std::vector<v1::Result> first(parts.begin(), parts.begin() + 2), rest(parts.begin() + 2, parts.end() - 1);
  CHECK(store.commitBatch(first, {}, {{tp, 3}}, 20).fresh.empty());
  first.insert(first.end(), rest.begin(), rest.end());
  CHECK(store.commitBatch(first, {}, {{tp, 7}}, 30).fresh.empty());
  CHECK(store.resultRows("run") == 1);
  CHECK(store.finalResults("run").size() == 1);
  CHECK_FALSE(store.run("run")->complete());
  // The last part completes the result, and with it the run.
  auto done = store.commitBatch({parts.back()}, {}, {{tp, 8}}, 40);
  CHECK(done.fresh == std::vector<size_t>{0});
  auto run = store.run("run");
  CHECK(run->complete());
  CHECK(run->completed_at_ms == 40);
  CHECK(run->verdict().jobs_done == 2);
  auto finals = store.finalResults("run");
  REQUIRE(finals.size() == 2);
  CHECK(finals[0].job_id() == "a");
  CHECK(finals[0].cases_size() == 50000);
  CHECK(finals[0].parts() == 0);
  // Every part again (a redelivery): nothing changes.
  CHECK(store.commitBatch(parts, {}, {{tp, 9}}, 50).fresh.empty());
  CHECK(store.resultRows("run") == 2);
  CHECK(store.finalResults("run")[0].cases_size() == 50000);
  CHECK(store.run("run")->completed_at_ms == 40);
}

TEST_CASE("all parts of a result in one batch store it at once; parts from a second sender do not mix in") {
  TempDb tmp;
  SqliteResultStore store(tmp.path);
  auto parts = inParts("run", "a", 20000);
  auto other = parts;
  for (auto& p : other) p.set_worker_id("w2");
  // A part of the other sender's result first, then the whole of the first sender's.
  std::vector<v1::Result> batch{other[0]};
  batch.insert(batch.end(), parts.begin(), parts.end());
  auto outcome = store.commitBatch(batch, {manifest("run", {"a"})}, {}, 10);
  CHECK(outcome.fresh == std::vector<size_t>{parts.size()});
  CHECK(store.run("run")->complete());
  REQUIRE(store.finalResults("run").size() == 1);
  CHECK(store.finalResults("run")[0].worker_id() == "w1");
  CHECK(store.finalResults("run")[0].cases_size() == 20000);
  // The other sender's remaining parts complete nothing: the attempt is stored already.
  CHECK(store.commitBatch(other, {}, {}, 20).fresh.empty());
  CHECK(store.resultRows("run") == 1);
}

TEST_CASE("the store counts a job FLAKY by the C++ rule: passed after a FAILED attempt, not after an ERROR one") {
  TempDb tmp;
  SqliteResultStore store(tmp.path);
  kafka::TopicPartition tp{"r", 0};
  store.commitBatch({}, {manifest("run", {"rerun", "retried", "plain"})}, {{tp, 1}}, 2000);
  v1::Result failed = result("run", "rerun", 1, v1::FAILED), errored = result("run", "retried", 1, v1::ERROR);
  failed.set_final(false);
  errored.set_final(false);
  store.commitBatch({failed, errored, result("run", "rerun", 2, v1::PASSED), result("run", "retried", 2, v1::PASSED),
                     result("run", "plain", 1, v1::PASSED)},
                    {}, {{tp, 2}}, 3000);
  auto run = store.run("run");
  REQUIRE(run);
  CHECK(run->job_verdicts == std::map<v1::Verdict, uint32_t>{{v1::PASSED, 2}, {v1::FLAKY, 1}});
}

TEST_CASE("a batch names the runs it completed, once; runs in progress are those with a manifest not complete") {
  TempDb tmp;
  SqliteResultStore store(tmp.path);
  kafka::TopicPartition tp{"r", 0};
  CHECK(store.runsInProgress() == 0);
  auto outcome =
      store.commitBatch({result("early", "a", 1, v1::PASSED)}, {manifest("run", {"a", "b"})}, {{tp, 2}}, 2000);
  CHECK(outcome.completed.empty());
  CHECK(store.runsInProgress() == 1);  // "early" has no manifest yet: not a run
  outcome = store.commitBatch({result("run", "a", 1, v1::PASSED), result("run", "b", 1, v1::PASSED)},
                              {manifest("early", {"a"})}, {{tp, 5}}, 3000);
  CHECK(outcome.completed == std::vector<std::string>{"early", "run"});
  CHECK(store.runsInProgress() == 0);
  outcome = store.commitBatch({result("run", "b", 2, v1::PASSED)}, {}, {{tp, 6}}, 4000);
  CHECK(outcome.completed.empty());  // already complete
}
