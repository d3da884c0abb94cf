#include <doctest/doctest.h>

#include <set>

#include "suite/planner.h"

using namespace testfleet;
using namespace testfleet::suite;

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

namespace {

Suite directorySuite(int files) {
  Suite s;
  s.name = "dir";
  TestSpec lint;
  lint.name = "lint";
  lint.command = "true";
  s.tests.push_back(lint);
  for (int i = 0; i < files; ++i) {
    TestSpec t;
    t.name = "test_" + std::to_string(i) + ".py";
    t.tests = {t.name};
    t.groupable = true;
    s.tests.push_back(t);
  }
  return s;
}

std::multiset<std::string> allFiles(const Suite& s) {
  std::multiset<std::string> out;
  for (const auto& t : s.tests) {
    if (t.groupable) out.insert(t.tests.begin(), t.tests.end());
  }
  return out;
}

}  // namespace

TEST_CASE("files pack into jobs of about the target duration; long files run alone") {
  Suite s = directorySuite(6);
  s.grouping.target = std::chrono::milliseconds(1000);
  std::map<std::string, uint32_t> ms = {{"test_0.py", 2500}, {"test_1.py", 600}, {"test_2.py", 400},
                                        {"test_3.py", 300},  {"test_4.py", 300}, {"test_5.py", 100}};
  const auto before = allFiles(s);
  auto expected = groupTests(s, ms);
  CHECK(allFiles(s) == before);           // every file in exactly one job
  CHECK(s.tests.front().name == "lint");  // jobs of other kinds keep their place
  REQUIRE(s.tests.size() == 1 + 3);       // {0} {1,2} {3,4,5}
  CHECK(s.tests[1].name == "test_0.py");  // alone: keeps its own name and so its job id and history
  CHECK(s.tests[1].tests.size() == 1);
  CHECK(s.tests[2].tests == std::vector<std::string>{"test_1.py", "test_2.py"});
  CHECK(s.tests[2].name == "test_1.py +1 more");
  CHECK(s.tests[3].tests.size() == 3);
  CHECK(expected.at(jobIdFor("test_1.py +1 more")) == 1000);
  // Same history, same jobs: ids are stable.
  Suite again = directorySuite(6);
  again.grouping = s.grouping;
  groupTests(again, ms);
  for (size_t i = 0; i < s.tests.size(); ++i) CHECK(again.tests[i].name == s.tests[i].name);
}

TEST_CASE("shards: N jobs, longest file first onto the least loaded; unknown files count as the estimate") {
  Suite s = directorySuite(10);
  s.grouping.shards = 3;
  s.grouping.unknown_estimate = std::chrono::milliseconds(100);
  std::map<std::string, uint32_t> ms = {{"test_0.py", 900}, {"test_1.py", 500}, {"test_2.py", 400}};
  auto expected = groupTests(s, ms);
  CHECK(s.tests.size() == 1 + 3);
  CHECK(allFiles(s).size() == 10);
  // test_0 (900 ms) fills its shard alone; the other two take the 400 and 500 ms files and the 7 unknown ones.
  CHECK(expected.size() == 1);
  CHECK(expected.count(jobIdFor("test_0.py")) == 1);
  Suite few = directorySuite(2);
  few.grouping.shards = 5;
  groupTests(few, {});
  CHECK(few.tests.size() == 1 + 2);  // never more jobs than files
}

TEST_CASE("split: test with group: the tests listed are packed into jobs as files are; test entries are not") {
  Suite s = directorySuite(2);
  s.grouping.target = std::chrono::milliseconds(1000);
  s.grouping.unknown_estimate = std::chrono::milliseconds(300);
  for (auto& t : s.tests) t.split_tests = t.groupable;
  TestSpec gtest;
  gtest.name = "unit";
  gtest.framework = v1::GTEST;
  gtest.tests = {"build/unit"};
  gtest.split_tests = true;
  s.tests.push_back(gtest);

  const Listing listing = planListing(s);
  // The two files run alike, so one listing job lists both; the gtest binary is listed by its own.
  REQUIRE(listing.suite.tests.size() == 2);
  CHECK(listing.members == std::vector<std::vector<size_t>>{{1, 2}, {3}});
  CHECK(listing.suite.tests[0].tests == std::vector<std::string>{"test_0.py", "test_1.py"});
  CHECK(listing.suite.tests[1].tests == std::vector<std::string>{"build/unit"});
  CHECK(planRun(listing.suite, "l", 0).jobs.size() == 2);

  const std::vector<std::vector<std::string>> listed = {
      {"test_0.py::a", "test_0.py::b", "test_1.py::c", "test_1.py::d", "test_1.py::e"}, {"Suite.A", "Suite.B"}};
  CHECK(expandListed(s, listing, listed) == 3);
  REQUIRE(s.tests.size() == 1 + 5 + 2);
  CHECK(s.tests[1].name == "test_0.py::a");
  CHECK(s.tests[1].tests == std::vector<std::string>{"test_0.py::a"});
  CHECK(s.tests[7].tests == std::vector<std::string>{"build/unit", "Suite.B"});
  for (const auto& t : s.tests) CHECK_FALSE(t.split_tests);

  // Then grouping (what submit does after listing): a has 600 ms of history, the others count 300 ms each.
  auto expected = groupTests(s, {{"test_0.py::a", 600}});
  CHECK(expected.empty());  // every group holds a test without history
  Plan plan = planRun(s, "r", 0);
  std::vector<std::string> names;
  for (const auto& j : plan.jobs) names.push_back(j.name());
  CHECK(names ==
        std::vector<std::string>{"lint", "test_0.py::a +1 more", "test_1.py::c +2 more", "Suite.A", "Suite.B"});
  CHECK(plan.jobs[1].tests().size() == 2);
  CHECK(plan.jobs[2].tests().size() == 3);
  CHECK(plan.jobs[3].tests().size() == 2);  // a gtest entry: its binary and one test, never packed
}
