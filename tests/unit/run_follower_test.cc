#include <doctest/doctest.h>

#include <sstream>
#include <thread>

#include "aggregator/http/api_server.h"
#include "aggregator/storage/sqlite_result_store.h"
#include "producer/run_follower.h"
#include "tests/unit/temp_db.h"

using namespace testfleet;
using testfleet::testing::TempDb;

TEST_CASE("following a run id whose run is another submission's ends as kRunIdTaken, not with its verdict") {
  TempDb tmp("follow");
  aggregator::SqliteResultStore store(tmp.path);
  v1::RunManifest first;
  first.set_schema_version(1);
  first.set_run_id("shared-id");
  first.set_suite_name("first");
  first.set_expected_jobs(1);
  first.add_job_ids("j");
  first.set_submitted_at_ms(1000);
  v1::Result passed;
  passed.set_schema_version(1);
  passed.set_run_id("shared-id");
  passed.set_job_id("j");
  passed.set_attempt(1);
  passed.set_final(true);
  passed.set_verdict(v1::PASSED);
  store.commitBatch({passed}, {first}, {}, 2000);
  aggregator::AggregatorMetrics metrics;
  aggregator::ApiServer api(store, metrics);
  producer::FollowSettings settings;
  settings.aggregator_url = "http://127.0.0.1:" + std::to_string(api.start("127.0.0.1", 0));
  settings.poll_interval = std::chrono::milliseconds(10);
  settings.deadline = std::chrono::seconds(10);
  std::ostringstream progress;

  producer::FollowResult other = producer::followRun("shared-id", 1500, settings, progress);
  CHECK(other.outcome == producer::FollowOutcome::kRunIdTaken);
  CHECK(other.problem.find("another submission (suite 'first')") != std::string::npos);

  producer::FollowResult own = producer::followRun("shared-id", 1000, settings, progress);
  CHECK(own.outcome == producer::FollowOutcome::kCompleted);
  CHECK(own.run.passed == true);
}

TEST_CASE("submit --wait sees a run's end when its last result is stored, not at its next poll") {
  TempDb tmp("follow-push");
  aggregator::SqliteResultStore store(tmp.path);
  v1::RunManifest m;
  m.set_schema_version(1);
  m.set_run_id("pushed");
  m.set_suite_name("s");
  m.set_expected_jobs(1);
  m.add_job_ids("j");
  m.set_submitted_at_ms(1000);
  store.commitBatch({}, {m}, {}, 2000);
  aggregator::AggregatorMetrics metrics;
  aggregator::RunChanges changes;
  aggregator::ApiSettings api_settings;
  api_settings.changes = &changes;
  aggregator::ApiServer api(store, metrics, api_settings);
  producer::FollowSettings settings;
  settings.aggregator_url = "http://127.0.0.1:" + std::to_string(api.start("127.0.0.1", 0));
  settings.poll_interval = std::chrono::seconds(20);  // a plain poll would see the end 20 s late
  settings.long_poll = std::chrono::seconds(20);
  std::ostringstream progress;

  std::thread ingest([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    v1::Result passed;
    passed.set_schema_version(1);
    passed.set_run_id("pushed");
    passed.set_job_id("j");
    passed.set_attempt(1);
    passed.set_final(true);
    passed.set_verdict(v1::PASSED);
    store.commitBatch({passed}, {}, {}, 3000);
    changes.publish({"pushed"});
  });
  const auto start = std::chrono::steady_clock::now();
  producer::FollowResult result = producer::followRun("pushed", 1000, settings, progress);
  const auto took = std::chrono::steady_clock::now() - start;
  ingest.join();
  CHECK(result.outcome == producer::FollowOutcome::kCompleted);
  CHECK(result.run.passed == true);
  CHECK(took < std::chrono::seconds(10));
}
