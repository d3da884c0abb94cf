// A service's Kafka client settings from its cluster options: the one place --brokers, --connect-timeout, the
// operator's librdkafka properties (-X, kafka:, TESTFLEET_RDKAFKA_*) and how topics are made (--no-create-topics,
// --replication-factor, --partitions) become kafka::ClientSettings.
#pragma once

#include <string>

#include "common/cli_options.h"
#include "common/kafka/kafka.h"

namespace testfleet::kafka {

// Throws std::invalid_argument saying what to fix (a bad property, an unreadable "@/path" secret file, a bad
// --partitions).
ClientSettings clientSettings(const ClusterOptions& cluster, const std::string& client_id);

}  // namespace testfleet::kafka
