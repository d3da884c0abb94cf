// The aggregator's Prometheus metrics: attempts and final job verdicts, job and run durations, runs in progress,
// ingest lag, records rejected or ignored. prometheus-cpp metrics are thread-safe; so is this class once built.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "aggregator/storage/result_store.h"
#include "testfleet/v1/testfleet.pb.h"

namespace testfleet::aggregator {

// From a result's end on its worker (finished_at_ms) to now_ms, when it was stored; never below 0.
double ingestLagSeconds(const v1::Result& r, int64_t now_ms);
// From a complete run's submission to its completion; never below 0.
double runDurationSeconds(const RunInfo& run);

class AggregatorMetrics {
 public:
  AggregatorMetrics();
  // A result stored for the first time at now_ms: every attempt counts in testfleet_results_total, a final one
  // also in testfleet_job_verdicts_total.
  void resultStored(const v1::Result& r, int64_t now_ms);
  void runCompleted(const RunInfo& run);
  void runsInProgress(size_t count);
  void recordRejected(const std::string& reason_kind);
  // Records kept out of every run: "unknown_job" (a result for a job its run's manifest does not list),
  // "duplicate_manifest" (a second, different manifest for a run id).
  void recordsIgnored(const std::string& reason, size_t count);
  // A run notification that ended: target "webhook", "github" or "any" (a whole run's, before it was split by
  // target); outcome "delivered", "gave_up" (a 4xx, or the last attempt failed) or "dropped" (the queue was full).
  void notificationEnded(const std::string& target, const std::string& outcome);
  std::string serialize() const;  // text exposition format, process metrics included

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& results_;
  prometheus::Family<prometheus::Counter>& job_verdicts_;
  prometheus::Family<prometheus::Counter>& runs_completed_;
  prometheus::Family<prometheus::Counter>& rejected_;
  prometheus::Family<prometheus::Counter>& ignored_;
  prometheus::Family<prometheus::Counter>& notifications_;
  prometheus::Gauge& runs_in_progress_;
  prometheus::Histogram& job_seconds_;
  prometheus::Histogram& run_seconds_;
  prometheus::Histogram& ingest_lag_seconds_;
};

}  // namespace testfleet::aggregator
