#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "common/kafka/client_health.h"

using namespace testfleet::kafka;
using namespace std::chrono_literals;

namespace {
// Shaped as librdkafka 2.0.2's statistics, cut to what is read: `assigned` partitions being fetched, one more
// stopped, and the internal unassigned partition -1.
std::string statistics(const std::string& broker_state, const std::string& group_state, const std::string& join_state,
                       int assigned) {
  std::string partitions = R"("-1": {"fetch_state": "none"}, "99": {"fetch_state": "stopped"})";
  for (int p = 0; p < assigned; ++p) {
    partitions += ", \"" + std::to_string(p) + R"(": {"fetch_state": ")" + (p % 2 ? "active" : "offset-query") + "\"}";
  }
  return R"({"name": "rdkafka#consumer-1", "type": "consumer", "brokers": {
      "127.0.0.1:19092/bootstrap": {"nodeid": -1, "state": "INIT"},
      "127.0.0.1:19092/1": {"nodeid": 1, "state": ")" +
         broker_state + R"("}},
    "topics": {"t.results": {"partitions": {)" +
         partitions + R"(}}},
    "cgrp": {"state": ")" +
         group_state + R"(", "join_state": ")" + join_state + R"(", "assignment_size": 0}})";
}
const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
}  // namespace

TEST_CASE("librdkafka's statistics say whether a broker is up, the member joined, partitions are assigned") {
  const ClientHealthReport up = readClientStatistics(statistics("UP", "up", "steady", 4), t0);
  CHECK(up.brokers_up == 1);
  CHECK(up.group_joined);
  CHECK(up.assigned_partitions == 4);
  CHECK(up.at == t0);

  const ClientHealthReport down = readClientStatistics(statistics("TRY_CONNECT", "wait-coord", "init", 0), t0);
  CHECK(down.brokers_up == 0);
  CHECK_FALSE(down.group_joined);
  CHECK_FALSE(readClientStatistics(statistics("UP", "up", "wait-join", 0), t0).group_joined);
  CHECK(readClientStatistics(statistics("UP", "up", "wait-assign-call", 0), t0).group_joined);  // a rebalance

  const ClientHealthReport garbage = readClientStatistics("{not json", t0);
  CHECK(garbage.brokers_up == 0);
  CHECK(garbage.at == t0);
}

TEST_CASE("a consumer is ready with a broker up and its group joined (worker) or partitions assigned (reader)") {
  const ReadinessRule member{.needs_group = true};
  const ReadinessRule reader{.needs_group = false};
  const ClientHealthReport joined_idle = readClientStatistics(statistics("UP", "up", "steady", 0), t0);
  CHECK(notReadyReason(joined_idle, t0 + 1s, member) == "");  // more workers than partitions: still a member
  CHECK(notReadyReason(joined_idle, t0 + 1s, reader) == "no partition assigned");
  CHECK(notReadyReason(readClientStatistics(statistics("UP", "up", "steady", 6), t0), t0, reader) == "");

  CHECK(notReadyReason(ClientHealthReport{}, t0, member) == "the Kafka consumer has not reported yet");
  CHECK(notReadyReason(readClientStatistics(statistics("DOWN", "up", "steady", 3), t0), t0, member) ==
        "no Kafka broker is reachable");
  CHECK(notReadyReason(readClientStatistics(statistics("UP", "up", "wait-join", 0), t0), t0, member) ==
        "not (yet) a member of the consumer group");
  // Statistics stop when the consumer is no longer polled.
  CHECK(notReadyReason(joined_idle, t0 + 14s, member) == "");
  CHECK(notReadyReason(joined_idle, t0 + 16s, member) == "the Kafka consumer has not been polled for 16 s");
}
