// The run browser's API against a real SQLite store on a free port: the filtered, paged run list, a test's
// history, a suite's flaky and slowest tests and its trend, and queries refused with 400.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <set>

#include "aggregator/http/api_server.h"
#include "aggregator/http/query_params.h"
#include "aggregator/storage/sqlite_result_store.h"
#include "common/http_client.h"
#include "tests/unit/temp_db.h"

using namespace testfleet;
using namespace testfleet::aggregator;
using nlohmann::json;
using testfleet::testing::TempDb;

namespace {

v1::RunManifest manifest(const std::string& run, const std::string& suite, int64_t at_ms,
                         const std::map<std::string, std::string>& labels = {}) {
  v1::RunManifest m;
  m.set_schema_version(1);
  m.set_run_id(run);
  m.set_suite_name(suite);
  m.set_expected_jobs(1);
  m.add_job_ids("job");
  m.set_submitted_at_ms(at_ms);
  for (const auto& [k, v] : labels) (*m.mutable_labels())[k] = v;
  return m;
}

// The run's one job, final at `attempt`, with one case per (name, verdict, duration).
v1::Result result(const std::string& run, int attempt, bool final, v1::Verdict job,
                  const std::vector<std::tuple<std::string, v1::Verdict, uint32_t>>& cases) {
  v1::Result r;
  r.set_schema_version(1);
  r.set_run_id(run);
  r.set_job_id("job");
  r.set_name("job");
  r.set_attempt(attempt);
  r.set_final(final);
  r.set_verdict(job);
  r.mutable_usage()->set_wall_ms(100);
  for (const auto& [name, verdict, ms] : cases) {
    auto* c = r.add_cases();
    c->set_classname("t");
    c->set_name(name);
    c->set_status(verdict);
    c->set_duration_ms(ms);
  }
  return r;
}

// Five runs of suite "s" (r1 oldest … r5 newest; r5 still running) and one of suite "other".
struct BrowserApi {
  TempDb db{"browser"};
  SqliteResultStore store{db.path};
  AggregatorMetrics metrics;
  ApiServer api{store, metrics};
  std::string base = "http://127.0.0.1:" + std::to_string(api.start("127.0.0.1", 0));
  HttpClient http;

  BrowserApi() {
    std::vector<v1::RunManifest> runs;
    for (int i = 1; i <= 5; ++i) {
      runs.push_back(manifest("r" + std::to_string(i), "s", 1000 * i, {{"branch", i % 2 ? "main" : "dev"}}));
    }
    runs.push_back(manifest("o1", "other", 1500));
    std::vector<v1::Result> results;
    for (int i = 1; i <= 4; ++i) {
      const std::string run = "r" + std::to_string(i);
      const v1::Verdict steady = i == 2 ? v1::FAILED : v1::PASSED;  // r2 failed, the others passed
      results.push_back(result(run, 1, true, steady,
                               {{"steady", steady, 10u * i}, {"slow", v1::PASSED, 500}, {"quick", v1::PASSED, 1}}));
    }
    // o1: flaky (failed, then passed on rerun)
    results.push_back(result("o1", 1, false, v1::FAILED, {{"shaky", v1::FAILED, 5}}));
    results.push_back(result("o1", 2, true, v1::PASSED, {{"shaky", v1::PASSED, 5}}));
    store.commitBatch(results, runs, {}, 9000);
  }

  json get(const std::string& path, int status = 200) {
    const HttpResponse r = http.get(base + path);
    CHECK_MESSAGE(r.status == status, path, ": ", r.body);
    return json::parse(r.body);
  }
  std::vector<std::string> runIds(const json& list) {
    std::vector<std::string> out;
    for (const auto& r : list["runs"]) out.push_back(r["run_id"]);
    return out;
  }
};

}  // namespace

TEST_CASE("the run list filters by suite, status and labels") {
  BrowserApi b;
  CHECK(b.runIds(b.get("/v1/runs")) == std::vector<std::string>{"r5", "r4", "r3", "r2", "o1", "r1"});
  CHECK(b.runIds(b.get("/v1/runs?suite=other")) == std::vector<std::string>{"o1"});
  CHECK(b.runIds(b.get("/v1/runs?suite=s&status=running")) == std::vector<std::string>{"r5"});
  CHECK(b.runIds(b.get("/v1/runs?suite=s&status=failed")) == std::vector<std::string>{"r2"});
  CHECK(b.runIds(b.get("/v1/runs?status=passed")) == std::vector<std::string>{"r4", "r3", "o1", "r1"});
  CHECK(b.runIds(b.get("/v1/runs?status=complete&label=branch:main")) == std::vector<std::string>{"r3", "r1"});
  CHECK(b.runIds(b.get("/v1/runs?label=branch:main&label=kind:x")).empty());  // every label must match
  CHECK(b.runIds(b.get("/v1/runs?label=nosuch:x")).empty());
}

TEST_CASE("the run list pages with an opaque cursor until next_cursor is null") {
  BrowserApi b;
  std::vector<std::string> seen;
  json page = b.get("/v1/runs?limit=2&suite=s");
  int pages = 1;
  while (true) {
    for (const auto& id : b.runIds(page)) seen.push_back(id);
    if (page["next_cursor"].is_null()) break;
    CHECK(page["runs"].size() == 2);
    page = b.get("/v1/runs?limit=2&suite=s&cursor=" + page["next_cursor"].get<std::string>());
    ++pages;
  }
  CHECK(pages == 3);
  CHECK(seen == std::vector<std::string>{"r5", "r4", "r3", "r2", "r1"});
  // A page that ends exactly at the last run has no next page.
  CHECK(b.get("/v1/runs?suite=s&limit=5")["next_cursor"].is_null());
}

TEST_CASE("a run-list query the server does not understand is a 400 that names what is wrong") {
  BrowserApi b;
  auto error = [&](const std::string& path) { return b.get(path, 400)["error"].get<std::string>(); };
  CHECK(error("/v1/runs?sute=s").find("unknown query parameter 'sute'") != std::string::npos);
  CHECK(error("/v1/runs?status=green").find("status must be running, complete, passed or failed") != std::string::npos);
  CHECK(error("/v1/runs?label=branch").find("label must be KEY:VALUE") != std::string::npos);
  CHECK(error("/v1/runs?label=branch:dev&label=branch:main").find("label branch is given twice") != std::string::npos);
  CHECK(error("/v1/runs?limit=0").find("limit must be a whole number from 1 to 1000") != std::string::npos);
  CHECK(error("/v1/runs?limit=12abc").find("limit must be") != std::string::npos);
  CHECK(error("/v1/runs?cursor=zz").find("cursor is not one") != std::string::npos);
  CHECK(error("/v1/tests/history?suite=s").find("give ?test=") != std::string::npos);
  CHECK(error("/v1/suites/s/flaky?run=3").find("unknown query parameter 'run'") != std::string::npos);
}

TEST_CASE("a cursor round-trips and anything else is refused") {
  const RunCursor c{1234, "run-1.a_b"};
  auto back = decodeCursor(encodeCursor(c));
  REQUIRE(back);
  CHECK(back->submitted_at_ms == 1234);
  CHECK(back->run_id == "run-1.a_b");
  CHECK_FALSE(decodeCursor(""));
  CHECK_FALSE(decodeCursor("abc"));                                   // odd length
  CHECK_FALSE(decodeCursor(encodeCursor({5, "bad id/with slash"})));  // not a run id
  CHECK_FALSE(decodeCursor("2b313a78"));                              // "+1:x": not a whole number
}

TEST_CASE("a test's history gives its verdict and duration in each of the suite's last runs it ran in") {
  BrowserApi b;
  json h = b.get("/v1/tests/history?suite=s&test=t::steady&limit=3");
  REQUIRE(h["history"].size() == 2);  // r5 (running) has no result yet; r4 and r3 are the others of the last 3
  CHECK(h["history"][0] ==
        json{{"run_id", "r4"}, {"submitted_at_ms", 4000}, {"verdict", "passed"}, {"duration_ms", 40}});
  CHECK(h["history"][1]["run_id"] == "r3");
  json all = b.get("/v1/tests/history?suite=s&test=t::steady");
  REQUIRE(all["history"].size() == 4);
  CHECK(all["history"][2]["verdict"] == "failed");
  CHECK(b.get("/v1/tests/history?suite=s&test=t::nosuch")["history"].empty());
}

TEST_CASE("a suite's flaky tests, slowest tests and trend") {
  BrowserApi b;
  json flaky = b.get("/v1/suites/s/flaky");
  REQUIRE(flaky["tests"].size() == 1);
  CHECK(flaky["tests"][0] == json{{"test", "t::steady"}, {"runs", 4}, {"passed", 3}, {"failed", 1}, {"flaky", 0}});
  json other = b.get("/v1/suites/other/flaky");
  REQUIRE(other["tests"].size() == 1);
  CHECK(other["tests"][0]["test"] == "t::shaky");
  CHECK(other["tests"][0]["flaky"] == 1);

  json slowest = b.get("/v1/suites/s/slowest?limit=2");
  REQUIRE(slowest["tests"].size() == 2);
  CHECK(slowest["tests"][0] == json{{"test", "t::slow"}, {"runs", 4}, {"mean_ms", 500}, {"max_ms", 500}});
  CHECK(slowest["tests"][1]["test"] == "t::steady");
  CHECK(slowest["tests"][1]["mean_ms"] == 25);

  json trend = b.get("/v1/suites/s/trend");
  REQUIRE(trend["points"].size() == 4);  // complete runs only, oldest first
  CHECK(trend["points"][0]["run_id"] == "r1");
  CHECK(trend["points"][1]["passed"] == false);
  CHECK(trend["points"][1]["success_rate"].get<double>() == doctest::Approx(100.0 * 2 / 3));
  CHECK(trend["points"][3]["wall_ms"] == 9000 - 4000);
  CHECK(b.get("/v1/suites/nosuch/trend")["points"].empty());
}
