#include "aggregator/metrics.h"

#include <prometheus/text_serializer.h>

#include "common/verdict.h"

namespace testfleet::aggregator {

AggregatorMetrics::AggregatorMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      results_(prometheus::BuildCounter()
                   .Name("testfleet_results_total")
                   .Help("Job results stored, by verdict (duplicates not counted)")
                   .Register(*registry_)),
      rejected_(prometheus::BuildCounter()
                    .Name("testfleet_records_rejected_total")
                    .Help("Records the aggregator could not use, by reason")
                    .Register(*registry_)),
      ignored_(prometheus::BuildCounter()
                   .Name("testfleet_records_ignored_total")
                   .Help("Records stored or read but kept out of every run, by reason: unknown_job (a result for a "
                         "job its run's manifest does not list), duplicate_manifest (a later manifest for a run id)")
                   .Register(*registry_)),
      job_seconds_(prometheus::BuildHistogram()
                       .Name("testfleet_job_duration_seconds")
                       .Help("Wall time of jobs in their sandbox")
                       .Register(*registry_)
                       .Add({}, prometheus::Histogram::BucketBoundaries{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
                                                                        60, 120, 300, 600, 1800})) {
  // Both series exist (at 0) from the start, so a rate over them is defined before the first ignored record.
  for (const char* reason : {"unknown_job", "duplicate_manifest"}) ignored_.Add({{"reason", reason}});
}

void AggregatorMetrics::resultStored(const v1::Result& r) {
  results_.Add({{"verdict", std::string(verdictName(r.verdict()))}}).Increment();
  job_seconds_.Observe(r.usage().wall_ms() / 1000.0);
}

void AggregatorMetrics::recordRejected(const std::string& reason_kind) {
  rejected_.Add({{"reason", reason_kind}}).Increment();
}

void AggregatorMetrics::recordsIgnored(const std::string& reason, size_t count) {
  ignored_.Add({{"reason", reason}}).Increment(static_cast<double>(count));
}

std::string AggregatorMetrics::serialize() const {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry_->Collect());
}

}  // namespace testfleet::aggregator
