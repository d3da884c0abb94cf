#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "aggregator/http/api_server.h"
#include "aggregator/storage/sqlite_result_store.h"
#include "common/http_client.h"
#include "tests/unit/temp_db.h"

using namespace testfleet;
using namespace testfleet::aggregator;
using testfleet::testing::TempDb;
using nlohmann::json;

namespace {
v1::Result attempt(const std::string& job, int n, bool final, v1::Verdict v) {
  v1::Result r;
  r.set_schema_version(1);
  r.set_run_id("flaky-run");
  r.set_job_id(job);
  r.set_name(job);
  r.set_attempt(n);
  r.set_final(final);
  r.set_verdict(v);
  auto* c = r.add_cases();
  c->set_name("t");
  c->set_status(v);
  return r;
}
}  // namespace

TEST_CASE("the run list and the run view give the same verdict for a flaky test when flaky_fails_run is set") {
  TempDb tmp("api");
  SqliteResultStore store(tmp.path);
  v1::RunManifest m;
  m.set_schema_version(1);
  m.set_run_id("flaky-run");
  m.set_suite_name("s");
  m.set_expected_jobs(2);
  m.add_job_ids("steady");
  m.add_job_ids("shaky");
  m.set_submitted_at_ms(1000);
  m.set_flaky_fails_run(true);
  store.commitBatch({attempt("steady", 1, true, v1::PASSED), attempt("shaky", 1, false, v1::FAILED),
                     attempt("shaky", 2, true, v1::PASSED)},
                    {m}, {}, 2000);
  AggregatorMetrics metrics;
  ApiServer api(store, metrics);
  const std::string base = "http://127.0.0.1:" + std::to_string(api.start("127.0.0.1", 0));
  HttpClient http;

  json view = json::parse(http.get(base + "/v1/runs/flaky-run").body);
  json progress = json::parse(http.get(base + "/v1/runs/flaky-run?jobs=false").body);
  json list = json::parse(http.get(base + "/v1/runs").body);
  REQUIRE(list["runs"].size() == 1);
  const json& listed = list["runs"][0];
  CHECK(view["state"] == "complete");
  CHECK(view["passed"] == false);  // the flaky job fails this run
  CHECK(listed["passed"] == view["passed"]);
  CHECK(view["jobs_failing"] == 1);
  CHECK(listed["jobs_failing"] == view["jobs_failing"]);
  CHECK(progress["jobs_failing"] == view["jobs_failing"]);
}
