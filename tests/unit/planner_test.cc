#include <doctest/doctest.h>

#include <set>

#include "producer/planner.h"

using namespace testfleet;
using namespace testfleet::producer;

TEST_CASE("a plan has one job per test, a manifest that counts them, and stable job ids") {
  Suite s;
  s.name = "p";
  s.labels["commit"] = "abc";
  for (int i = 0; i < 200; ++i) {
    TestSpec t;
    t.name = "t" + std::to_string(i);
    t.command = "true";
    t.env["K"] = "V";
    s.tests.push_back(t);
  }
  Plan a = planRun(s, "run1", 1000);
  Plan b = planRun(s, "run2", 2000);
  REQUIRE(a.jobs.size() == 200);
  CHECK(a.manifest.expected_jobs() == 200);
  CHECK(a.manifest.job_ids_size() == 200);
  CHECK(a.manifest.labels().at("commit") == "abc");
  std::set<std::string> ids;
  for (size_t i = 0; i < a.jobs.size(); ++i) {
    ids.insert(a.jobs[i].job_id());
    CHECK(a.jobs[i].job_id() == b.jobs[i].job_id());  // same test, same id, whatever the run
    CHECK(a.jobs[i].run_id() == "run1");
    CHECK(a.jobs[i].attempt() == 1);
    CHECK(a.jobs[i].env().at("K") == "V");
  }
  CHECK(ids.size() == 200);
}

TEST_CASE("history puts unknown jobs first, then the longest") {
  Suite s;
  s.name = "h";
  for (const char* n : {"short", "unknown1", "long", "medium", "unknown2"}) {
    TestSpec t;
    t.name = n;
    t.command = "true";
    s.tests.push_back(t);
  }
  Plan p = planRun(s, "r", 0);
  std::map<std::string, uint32_t> d{{jobIdFor("short"), 10}, {jobIdFor("long"), 9000}, {jobIdFor("medium"), 500}};
  CHECK(orderByHistory(p, d) == 3);
  std::vector<std::string> order;
  for (const auto& j : p.jobs) order.push_back(j.name());
  CHECK(order == std::vector<std::string>{"unknown1", "unknown2", "long", "medium", "short"});
}
