#include "aggregator/metrics.h"

#include "common/metrics/service_metrics.h"
#include "common/verdict.h"

namespace testfleet::aggregator {

double ingestLagSeconds(const v1::Result& r, int64_t now_ms) {
  if (r.finished_at_ms() <= 0) return 0;
  return metrics::secondsBetween(r.finished_at_ms(), now_ms);
}

double runDurationSeconds(const RunInfo& run) {
  if (!run.complete()) return 0;
  return metrics::secondsBetween(run.manifest.submitted_at_ms(), run.completed_at_ms);
}

using metrics::counterFamily;
using metrics::durationHistogram;

AggregatorMetrics::AggregatorMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      results_(
          counterFamily(*registry_, "testfleet_results_total",
                        "Results stored, every attempt, by the attempt's verdict (duplicates not counted); an ERROR "
                        "that was retried counts here too")),
      job_verdicts_(counterFamily(*registry_, "testfleet_job_verdicts_total",
                                  "Final results stored (no further attempt follows), by verdict: what runs report")),
      runs_completed_(
          counterFamily(*registry_, "testfleet_runs_completed_total",
                        "Runs completed (every listed job has a final result), by result: passed or failed")),
      rejected_(counterFamily(*registry_, "testfleet_records_rejected_total",
                              "Records the aggregator could not use, by reason")),
      ignored_(
          counterFamily(*registry_, "testfleet_records_ignored_total",
                        "Records stored or read but kept out of every run, by reason: unknown_job (a result for a "
                        "job its run's manifest does not list), duplicate_manifest (a later manifest for a run id)")),
      notifications_(counterFamily(*registry_, "testfleet_notifications_total",
                                   "Run notifications (webhooks, GitHub commit statuses) that ended, by target and "
                                   "outcome: delivered, gave_up (refused, or the last retry failed), dropped")),
      runs_in_progress_(prometheus::BuildGauge()
                            .Name("testfleet_runs_in_progress")
                            .Help("Runs with a manifest that are not complete")
                            .Register(*registry_)
                            .Add({})),
      job_seconds_(durationHistogram(*registry_, "testfleet_job_duration_seconds",
                                     "Wall time of jobs in their sandbox, every attempt")),
      run_seconds_(
          durationHistogram(*registry_, "testfleet_run_duration_seconds", "From a run's submission to its completion")),
      ingest_lag_seconds_(durationHistogram(*registry_, "testfleet_ingest_lag_seconds",
                                            "From a result's end on its worker to when the aggregator stored it")) {
  // Every series exists (at 0) from the start, so a rate over it is defined before its first event.
  metrics::addBuildInfo(*registry_);
  metrics::addVerdictSeries(results_);
  metrics::addVerdictSeries(job_verdicts_);
  for (const char* result : {"passed", "failed"}) runs_completed_.Add({{"result", result}});
  for (const char* reason : {"undecodable", "invalid_manifest"}) rejected_.Add({{"reason", reason}});
  for (const char* reason : {"unknown_job", "duplicate_manifest"}) ignored_.Add({{"reason", reason}});
  for (const char* target : {"webhook", "github"}) {
    for (const char* outcome : {"delivered", "gave_up"}) notifications_.Add({{"target", target}, {"outcome", outcome}});
  }
}

void AggregatorMetrics::resultStored(const v1::Result& r, int64_t now_ms) {
  const std::string verdict(verdictName(r.verdict()));
  results_.Add({{"verdict", verdict}}).Increment();
  if (r.final()) job_verdicts_.Add({{"verdict", verdict}}).Increment();
  job_seconds_.Observe(r.usage().wall_ms() / 1000.0);
  ingest_lag_seconds_.Observe(ingestLagSeconds(r, now_ms));
}

void AggregatorMetrics::runCompleted(const RunInfo& run) {
  runs_completed_.Add({{"result", run.verdict().passed ? "passed" : "failed"}}).Increment();
  run_seconds_.Observe(runDurationSeconds(run));
}

void AggregatorMetrics::runsInProgress(size_t count) { runs_in_progress_.Set(static_cast<double>(count)); }

void AggregatorMetrics::recordRejected(const std::string& reason_kind) {
  rejected_.Add({{"reason", reason_kind}}).Increment();
}

void AggregatorMetrics::recordsIgnored(const std::string& reason, size_t count) {
  ignored_.Add({{"reason", reason}}).Increment(static_cast<double>(count));
}

void AggregatorMetrics::notificationEnded(const std::string& target, const std::string& outcome) {
  notifications_.Add({{"target", target}, {"outcome", outcome}}).Increment();
}

std::string AggregatorMetrics::serialize() const { return metrics::exposition(*registry_); }

}  // namespace testfleet::aggregator
