// Before a client waits on librdkafka (which retries an unreachable broker quietly until its own timeout), one plain
// TCP connection says what is wrong in words a user can act on: a host name that does not resolve, a port nothing
// listens on, or an address that does not answer. Blocking; any thread.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace testfleet::kafka {

struct BrokerAddress {
  std::string host;  // a name or an IP address, without IPv6 brackets
  std::string port;  // "9092" when the list gives none
};

// "h1:9092, PLAINTEXT://[::1]:9093" → {h1, 9092}, {::1, 9093}. Empty entries are skipped.
std::vector<BrokerAddress> parseBrokerList(const std::string& brokers);

// "" as soon as one of `brokers` (a bootstrap list) accepts a TCP connection; otherwise, once `timeout` has passed,
// why each could not be reached. A name that does not resolve and a connection refused are asked again until then
// (a broker, or its name in DNS, may be coming up).
std::string unreachableBrokers(const std::string& brokers, std::chrono::milliseconds timeout);

}  // namespace testfleet::kafka
