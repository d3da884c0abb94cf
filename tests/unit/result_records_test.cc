#include <doctest/doctest.h>

#include "worker/result_records.h"

using namespace testfleet;

TEST_CASE("a job's result goes out as records under the budget, keyed by its run id") {
  v1::Result r;
  r.set_schema_version(1);
  r.set_run_id("run-1");
  r.set_job_id("job");
  r.set_attempt(1);
  for (int i = 0; i < 50000; ++i) {
    v1::TestCase* c = r.add_cases();
    c->set_name("test_" + std::to_string(i));
    c->set_classname("module");
    c->set_status(v1::FAILED);
    c->set_message("assertion failed");
  }
  std::vector<kafka::OutgoingRecord> records{{"jobs", "k", "retry"}};
  worker::appendResultRecords(records, "results", r, 900 << 10);
  CHECK(records.size() > 2);
  CHECK(records[0].payload == "retry");  // appended after what was there
  for (size_t i = 1; i < records.size(); ++i) {
    CHECK(records[i].topic == "results");
    CHECK(records[i].key == "run-1");
    CHECK(records[i].payload.size() <= 900u << 10);
  }
}
