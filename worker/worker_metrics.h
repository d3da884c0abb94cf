// The worker's Prometheus metrics: slots, attempts by verdict, durations, time before the sandbox runs, time jobs
// waited on their topic, retries, reruns, dead letters and environments prepared or reused. Final verdicts are counted
// by the aggregator (testfleet_job_verdicts_total): here an attempt that is retried still counts under its own verdict.
// Thread-safe: slot threads and the loop thread report while the status server serialises.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

#include "worker/job_loop_events.h"

namespace testfleet::worker {

// How long an attempt spent outside its sandbox's run before and after it (workspace, bundle fetch, scripts,
// reading the report): its span minus the sandbox's wall time, never below 0.
double setupSeconds(const v1::Result& r);
// How long a delivered job waited on its topic: from when it was enqueued, or when its retry became due, to now;
// never below 0.
double queueWaitSeconds(const v1::Job& job, int64_t now_ms);

class WorkerMetrics : public JobLoopEvents {
 public:
  explicit WorkerMetrics(int slots);
  void jobStarted();
  void jobFinished(const v1::Result& result);
  double busySlots() const;

  void delivered(const v1::Job& job, int64_t now_ms) override;
  void routed(Route::Kind kind) override;
  void deadLettered(DeadLetterReason reason) override;

  std::string serialize() const;  // text exposition format, process metrics included

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& attempts_;
  prometheus::Family<prometheus::Counter>& retries_;
  prometheus::Family<prometheus::Counter>& dead_letters_;
  prometheus::Family<prometheus::Counter>& environments_;
  prometheus::Counter& reruns_;
  prometheus::Gauge& busy_;
  prometheus::Histogram& job_seconds_;
  prometheus::Histogram& setup_seconds_;
  prometheus::Histogram& queue_wait_seconds_;
};

}  // namespace testfleet::worker
