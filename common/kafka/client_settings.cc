#include "common/kafka/client_settings.h"

#include <stdexcept>

#include "common/kafka/topics.h"

namespace testfleet::kafka {
namespace {

// --partitions jobs=48,retry=6 → {jobs: 48, retry: 6}.
std::map<std::string, int> partitionsByRole(const std::vector<std::string>& assignments) {
  std::map<std::string, int> out;
  for (const auto& a : assignments) {
    const size_t eq = a.find('=');
    const std::string role = a.substr(0, eq);
    bool known = false;
    for (const char* r : Topics::kSizableRoles) known = known || role == r;
    int n = 0;
    try {
      n = eq == std::string::npos ? 0 : std::stoi(a.substr(eq + 1));
    } catch (const std::exception&) {
      n = 0;
    }
    if (!known || n < 1 || n > 10000) {
      throw std::invalid_argument("--partitions: '" + a +
                                  "' is not ROLE=N with a role of jobs, results, runs, dlq, retry, such as jobs=48");
    }
    out[role] = n;
  }
  return out;
}

}  // namespace

ClientSettings clientSettings(const ClusterOptions& cluster, const std::string& client_id) {
  ClientSettings s{cluster.brokers, client_id, cluster.connect_timeout, kafkaProperties(cluster), {}};
  if (std::string problem = propertiesProblem(s.properties); !problem.empty()) throw std::invalid_argument(problem);
  s.topic_creation = {!cluster.no_create_topics, cluster.replication_factor, partitionsByRole(cluster.partitions)};
  return s;
}

}  // namespace testfleet::kafka
