#include <doctest/doctest.h>

#include "common/run_cancels.h"

using namespace testfleet;
using namespace std::chrono_literals;

TEST_CASE("recent cancels: kept for the keep time by the cancel's time, and at most max_runs, oldest out first") {
  RecentCancels cancels(1h, 2);
  const int64_t now = 10'000'000;
  cancels.add("a", now - 1000, now);
  CHECK(cancels.cancelled("a"));
  CHECK_FALSE(cancels.cancelled("b"));
  cancels.add("stale", now - 2 * 3600'000, now);  // cancelled longer ago than the keep time: not kept
  CHECK_FALSE(cancels.cancelled("stale"));
  cancels.add("b", now - 500, now);
  cancels.add("c", now, now);  // over max_runs: the oldest, "a", goes
  CHECK_FALSE(cancels.cancelled("a"));
  CHECK(cancels.cancelled("b"));
  CHECK(cancels.cancelled("c"));
  cancels.add("d", now + 3600'001, now + 3600'001);  // over an hour on: "b" and "c" have aged out
  CHECK(cancels.size() == 1);
  CHECK(cancels.cancelled("d"));
}

TEST_CASE("run cancel records: keyed by run id, read back; anything else is not a cancel") {
  const kafka::OutgoingRecord r = runCancelRecord("t.control", "run-7", 1234, "testfleet cancel");
  CHECK(r.topic == "t.control");
  CHECK(r.key == "run-7");
  kafka::Message m;
  m.payload = r.payload;
  const std::optional<v1::RunCancel> c = parseRunCancel(m);
  REQUIRE(c);
  CHECK(c->run_id() == "run-7");
  CHECK(c->cancelled_at_ms() == 1234);
  m.payload = "not a cancel";
  CHECK_FALSE(parseRunCancel(m));
}
