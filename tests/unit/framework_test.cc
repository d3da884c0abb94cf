#include <doctest/doctest.h>

#include "common/frameworks/framework.h"

using namespace testfleet;

TEST_CASE("every framework name maps to an adapter that names itself the same") {
  for (const auto& name : frameworkNames()) {
    auto f = frameworkFromName(name);
    REQUIRE(f.has_value());
    auto adapter = makeAdapter(*f);
    REQUIRE(adapter != nullptr);
    CHECK(adapter->name() == name);
  }
  CHECK_FALSE(frameworkFromName("mocha").has_value());
}

TEST_CASE("listings are read the way each framework prints them") {
  auto pytest = makeAdapter(v1::PYTEST);
  CHECK(
      pytest->parseListing("a/test_x.py::test_one\ntest_y.py::TestC::test_two[1-2]\n\n3 tests collected in 0.01s\n") ==
      std::vector<std::string>{"a/test_x.py::test_one", "test_y.py::TestC::test_two[1-2]"});
  auto gtest = makeAdapter(v1::GTEST);
  CHECK(
      gtest->parseListing(
          "Stack.\n  PushThenPop\n  DISABLED_Iterate\nParam/Calc.  # TypeParam = int\n  Adds/0  # GetParam() = 1\n") ==
      std::vector<std::string>{"Stack.PushThenPop", "Stack.DISABLED_Iterate", "Param/Calc.Adds/0"});
  auto unittest = makeAdapter(v1::UNITTEST);
  CHECK(unittest->parseListing("m.C.test_a\nm.C.test_b\n") == std::vector<std::string>{"m.C.test_a", "m.C.test_b"});
  auto ctest = makeAdapter(v1::CTEST);
  CHECK(ctest->parseListing("Test project /work/build\n  Test #1: adds_up\n  Test #2: a.b+c\n\nTotal Tests: 2\n") ==
        std::vector<std::string>{"adds_up", "a.b+c"});
  v1::Job one;
  one.add_tests("a.b+c");
  CHECK(ctest->command(one).find("-R '^a\\.b\\+c$'") != std::string::npos);  // run exactly that test
  auto go = makeAdapter(v1::GO_TEST);
  CHECK(go->parseListing(
            "TestA\nExampleB\nBenchmarkC\nok  \texample.com/m/a\t0.01s\n?   \texample.com/m/b\t[no test files]\n"
            "TestD\nok  \texample.com/m/c\t(cached)\n") ==
        std::vector<std::string>{"example.com/m/a TestA", "example.com/m/a ExampleB", "example.com/m/c TestD"});
  v1::Job go_one;
  go_one.add_tests("example.com/m/a TestA");
  CHECK(go->command(go_one).find("-run '^(TestA)$' 'example.com/m/a'") != std::string::npos);
  v1::Job job;
  job.add_tests("bin/calc_test");
  CHECK(gtest->listCommand(job).find("'./bin/calc_test' --gtest_list_tests") != std::string::npos);
  CHECK(makeAdapter(v1::NODE_TEST)->listCommand(job).empty());  // node cannot list: split: test is refused for it
}
