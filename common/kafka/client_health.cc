#include "common/kafka/client_health.h"

#include <nlohmann/json.hpp>

namespace testfleet::kafka {

ClientHealthReport readClientStatistics(const std::string& json, std::chrono::steady_clock::time_point at) {
  ClientHealthReport report;
  report.at = at;
  const nlohmann::json stats = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!stats.is_object()) return report;
  if (auto brokers = stats.find("brokers"); brokers != stats.end() && brokers->is_object()) {
    for (const auto& broker : *brokers) {
      if (broker.is_object() && broker.value("state", "") == "UP") ++report.brokers_up;
    }
  }
  if (auto group = stats.find("cgrp"); group != stats.end() && group->is_object()) {
    // After wait-join the member has joined; the later states (sync, assign calls) come and go with rebalances.
    const std::string join = group->value("join_state", "");
    report.group_joined = group->value("state", "") == "up" && join != "init" && join != "wait-join";
  }
  // Assigned partitions, by a group or by assign(): those librdkafka fetches or is about to (cgrp's
  // assignment_size counts only a group's).
  if (auto topics = stats.find("topics"); topics != stats.end() && topics->is_object()) {
    for (const auto& topic : *topics) {
      if (!topic.is_object() || !topic.contains("partitions") || !topic["partitions"].is_object()) continue;
      for (const auto& [id, partition] : topic["partitions"].items()) {
        const std::string state = partition.is_object() ? partition.value("fetch_state", "none") : "none";
        if (id != "-1" && state != "none" && state != "stopping" && state != "stopped") ++report.assigned_partitions;
      }
    }
  }
  return report;
}

std::string notReadyReason(const ClientHealthReport& report, std::chrono::steady_clock::time_point now,
                           const ReadinessRule& rule) {
  using std::chrono::duration_cast;
  using std::chrono::seconds;
  if (report.at == std::chrono::steady_clock::time_point{}) return "the Kafka consumer has not reported yet";
  if (now - report.at > rule.max_age) {
    return "the Kafka consumer has not been polled for " +
           std::to_string(duration_cast<seconds>(now - report.at).count()) + " s";
  }
  if (report.brokers_up == 0) return "no Kafka broker is reachable";
  if (rule.needs_group && !report.group_joined) return "not (yet) a member of the consumer group";
  if (!rule.needs_group && report.assigned_partitions == 0) return "no partition assigned";
  return "";
}

}  // namespace testfleet::kafka
