// Reads results and run manifests from Kafka (read_committed) and stores them with the read positions in one
// store transaction per batch, so a killed aggregator resumes exactly where it stopped. Undecodable records go to
// the dead-letter topic and are skipped. Runs on the thread that calls run().
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "aggregator/metrics.h"
#include "aggregator/notify/run_notifier.h"
#include "aggregator/run_changes.h"
#include "aggregator/storage/result_store.h"
#include "common/kafka/kafka.h"
#include "common/kafka/topics.h"

namespace testfleet::aggregator {

struct IngestSettings {
  kafka::ClientSettings kafka;
  kafka::Topics topics;
  kafka::ClientHealth* reader_health = nullptr;  // the results reader reports here, for /readyz (may be null)
  size_t max_batch = 500;
  std::chrono::milliseconds max_batch_wait{100};
  size_t max_record_bytes = 8 << 20;
};

// Why a decoded manifest cannot found a run (empty when it can): it must list at least one job, each once, and
// expect exactly the jobs it lists. A manifest that lists no jobs would make a run with nothing to fail.
std::string manifestProblem(const v1::RunManifest& m);

class Ingest {
 public:
  // notifier (may be null: no notifications) hears of every run a stored batch completed; changes (may be null) is
  // published after every stored batch, for the HTTP long-polls. Both must outlive run().
  Ingest(IngestSettings settings, ResultStore& store, AggregatorMetrics& metrics, RunNotifier* notifier = nullptr,
         RunChanges* changes = nullptr);
  // Until stop is set. Throws kafka::Error when the topics cannot be read at start.
  void run(const std::atomic<bool>& stop);

 private:
  IngestSettings settings_;
  ResultStore& store_;
  AggregatorMetrics& metrics_;
  RunNotifier* notifier_;
  RunChanges* changes_;
};

}  // namespace testfleet::aggregator
