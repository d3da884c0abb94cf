// The topic names testfleet uses, derived from one prefix so test runs and tenants can be kept apart.
#pragma once

#include <string>
#include <vector>

#include "common/kafka/kafka.h"

namespace testfleet::kafka {

struct Topics {
  std::string jobs;
  std::string results;
  std::string runs;
  std::string dead_letters;

  static Topics withPrefix(const std::string& prefix) {
    return {prefix + ".jobs", prefix + ".results", prefix + ".runs", prefix + ".dlq"};
  }

  // jobs: 12 partitions so up to 12 workers share the load; runs: compacted manifests keyed by run id.
  std::vector<TopicSpec> specs() const {
    return {{jobs, 12, false}, {results, 6, false}, {runs, 3, true}, {dead_letters, 1, false}};
  }
};

}  // namespace testfleet::kafka
