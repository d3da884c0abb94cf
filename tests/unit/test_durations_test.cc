#include <doctest/doctest.h>

#include "aggregator/storage/test_durations.h"

using testfleet::aggregator::apportionToTests;
namespace v1 = testfleet::v1;

TEST_CASE("a grouped job's time is shared by its files as their cases say, evenly when they do not") {
  v1::Result r;
  r.mutable_usage()->set_wall_ms(1000);
  r.add_tests("pkg/test_a.py");
  CHECK(apportionToTests(r) == std::vector<std::pair<std::string, uint32_t>>{{"pkg/test_a.py", 1000}});
  r.add_tests("test_b.py");
  auto add = [&](const char* classname, uint32_t ms) {
    auto* c = r.add_cases();
    c->set_classname(classname);
    c->set_duration_ms(ms);
  };
  auto even = apportionToTests(r);
  CHECK(even[0].second == 500);
  CHECK(even[1].second == 500);
  add("pkg.test_a", 300);
  add("pkg.test_a.TestX", 300);
  add("test_b", 200);
  add("pkg.test_ab", 999);  // another module, not test_a's
  auto shared = apportionToTests(r);
  CHECK(shared[0].second == 750);
  CHECK(shared[1].second == 250);
}

TEST_CASE("a job of split: test ids shares its time by each id's own case, not all to the first id of a file") {
  v1::Result r;
  r.mutable_usage()->set_wall_ms(1000);
  for (const char* id : {"test_calc.py::test_add", "test_calc.py::test_add_table[1-1-2]",
                         "pkg/test_f.py::TestGrouped::test_inside", "mod.T.test_u"}) {
    r.add_tests(id);
  }
  auto add = [&](const char* classname, const char* name, uint32_t ms) {
    auto* c = r.add_cases();
    c->set_classname(classname);
    c->set_name(name);
    c->set_duration_ms(ms);
  };
  // As pytest (xunit1) and unittest_runner.py report them.
  add("test_calc", "test_add", 100);
  add("test_calc", "test_add_table[1-1-2]", 300);
  add("pkg.test_f.TestGrouped", "test_inside", 400);
  add("mod.T", "test_u", 200);
  CHECK(apportionToTests(r) ==
        std::vector<std::pair<std::string, uint32_t>>{{"test_calc.py::test_add", 100},
                                                      {"test_calc.py::test_add_table[1-1-2]", 300},
                                                      {"pkg/test_f.py::TestGrouped::test_inside", 400},
                                                      {"mod.T.test_u", 200}});
}
