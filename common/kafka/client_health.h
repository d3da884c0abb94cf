// Whether a Kafka consumer can do its work, from the statistics librdkafka emits while the consumer is polled:
// a broker connection is up, it is a member of its group (group consumers), partitions are assigned.
// The readiness probes (/readyz) of the worker and the aggregator ask it. Statistics that stop coming mean the
// consumer is not polled (or librdkafka is stuck) and count as not ready.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

namespace testfleet::kafka {

struct ClientHealthReport {
  int brokers_up = 0;         // broker connections in state UP
  bool group_joined = false;  // a member of its consumer group
  int assigned_partitions = 0;
  std::chrono::steady_clock::time_point at{};  // when librdkafka reported it; epoch: never
};

// Reads librdkafka's statistics JSON (the `statistics.interval.ms` event). A document it cannot read gives a report
// with nothing up.
ClientHealthReport readClientStatistics(const std::string& json, std::chrono::steady_clock::time_point at);

// What a consumer must show to be ready.
struct ReadinessRule {
  bool needs_group = false;  // a group member (the worker), or a reader with its own assignment (the aggregator)
  std::chrono::milliseconds max_age{std::chrono::seconds(15)};  // statistics older than this: not polled
};

// "" when `report` shows the consumer can work at `now`; otherwise why not, for /readyz.
std::string notReadyReason(const ClientHealthReport& report, std::chrono::steady_clock::time_point now,
                           const ReadinessRule& rule);

// The last report of one consumer. Thread-safe: the consumer's polling thread reports, probes read.
class ClientHealth {
 public:
  void report(const ClientHealthReport& r) {
    std::lock_guard lock(mu_);
    last_ = r;
  }
  ClientHealthReport last() const {
    std::lock_guard lock(mu_);
    return last_;
  }

 private:
  mutable std::mutex mu_;  // guards last_
  ClientHealthReport last_;
};

}  // namespace testfleet::kafka
