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
  std::string control;  // run cancellations, keyed by run id, compacted (common/run_cancels.h)
  // Jobs waiting to be retried after a transient failure, one topic per delay step (the delays are the
  // workers' configuration; a topic holds records in due order because they all wait the same time).
  std::vector<std::string> retries;

  static constexpr int kRetrySteps = 3;

  static Topics withPrefix(const std::string& prefix) {
    Topics t{prefix + ".jobs", prefix + ".results", prefix + ".runs", prefix + ".dlq", prefix + ".control", {}};
    for (int i = 1; i <= kRetrySteps; ++i) t.retries.push_back(prefix + ".retry-" + std::to_string(i));
    return t;
  }

  // The roles whose partition counts an operator may choose.
  static constexpr const char* kSizableRoles[] = {"jobs", "results", "runs", "dlq", "retry"};

  bool isRetry(const std::string& topic) const {
    for (const auto& r : retries) {
      if (r == topic) return true;
    }
    return false;
  }

  // jobs: 12 partitions so up to 12 workers share the load; runs: compacted manifests keyed by run id; control:
  // one partition every worker reads whole. An operator changes the counts by role (TopicCreation::partitions),
  // except control's.
  std::vector<TopicSpec> specs() const {
    std::vector<TopicSpec> all{{jobs, 12, false, "jobs"},
                               {results, 6, false, "results"},
                               {runs, 3, true, "runs"},
                               {dead_letters, 1, false, "dlq"},
                               {control, 1, true, ""}};
    for (const auto& r : retries) all.push_back({r, 3, false, "retry"});
    return all;
  }
};

}  // namespace testfleet::kafka
