#include <doctest/doctest.h>

#include <sstream>

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
