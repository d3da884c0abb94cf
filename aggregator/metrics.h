// The aggregator's Prometheus metrics. prometheus-cpp metrics are thread-safe; so is this struct once built.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

#include "testfleet/v1/testfleet.pb.h"

namespace testfleet::aggregator {

class AggregatorMetrics {
 public:
  AggregatorMetrics();
  void resultStored(const v1::Result& r);
  void recordRejected(const std::string& reason_kind);
  std::string serialize() const;  // text exposition format

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& results_;
  prometheus::Family<prometheus::Counter>& rejected_;
  prometheus::Histogram& job_seconds_;
};

}  // namespace testfleet::aggregator
