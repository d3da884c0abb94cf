// The aggregator's Prometheus metrics. prometheus-cpp metrics are thread-safe; so is this struct once built.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstddef>
#include <memory>
#include <string>

#include "testfleet/v1/testfleet.pb.h"

namespace testfleet::aggregator {

class AggregatorMetrics {
 public:
  AggregatorMetrics();
  void resultStored(const v1::Result& r);
  void recordRejected(const std::string& reason_kind);
  // Records kept out of every run: "unknown_job" (a result for a job its run's manifest does not list),
  // "duplicate_manifest" (a second, different manifest for a run id).
  void recordsIgnored(const std::string& reason, size_t count);
  std::string serialize() const;  // text exposition format

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& results_;
  prometheus::Family<prometheus::Counter>& rejected_;
  prometheus::Family<prometheus::Counter>& ignored_;
  prometheus::Histogram& job_seconds_;
};

}  // namespace testfleet::aggregator
