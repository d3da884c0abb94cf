#include "worker/worker_metrics.h"

#include <algorithm>

#include "common/metrics/service_metrics.h"
#include "common/verdict.h"

namespace testfleet::worker {

double setupSeconds(const v1::Result& r) {
  return metrics::secondsBetween(r.started_at_ms() + r.usage().wall_ms(), r.finished_at_ms());
}

double queueWaitSeconds(const v1::Job& job, int64_t now_ms) {
  const int64_t since = std::max(job.enqueued_at_ms(), job.not_before_ms());
  if (since <= 0) return 0;
  return metrics::secondsBetween(since, now_ms);
}

using metrics::counterFamily;
using metrics::durationHistogram;

WorkerMetrics::WorkerMetrics(int slots)
    : registry_(std::make_shared<prometheus::Registry>()),
      attempts_(counterFamily(*registry_, "testfleet_worker_jobs_total",
                              "Attempts this worker ran, by the attempt's verdict; an ERROR that is retried counts "
                              "here too (final verdicts: testfleet_job_verdicts_total)")),
      retries_(counterFamily(*registry_, "testfleet_worker_retries_total",
                             "ERROR attempts this worker retried: in_place (again on this worker) or retry_topic")),
      dead_letters_(counterFamily(*registry_, "testfleet_worker_dead_letters_total",
                                  "Dead letters this worker wrote, by reason: gave_up (attempts exhausted), "
                                  "not_a_job (an undecodable record), unwritable (Kafka refused the job's records)")),
      environments_(counterFamily(*registry_, "testfleet_worker_environments_total",
                                  "Attempts that declared an environment, by what it took: prepared (this attempt "
                                  "prepared it), reused (it was prepared already), failed (preparing it failed)")),
      reruns_(counterFamily(*registry_, "testfleet_worker_reruns_total",
                            "FAILED jobs this worker sent back for a rerun (flaky-test detection)")
                  .Add({})),
      busy_(prometheus::BuildGauge()
                .Name("testfleet_worker_slots_busy")
                .Help("Slots running a job now")
                .Register(*registry_)
                .Add({})),
      job_seconds_(durationHistogram(*registry_, "testfleet_worker_job_duration_seconds",
                                     "Wall time of attempts in their sandbox")),
      setup_seconds_(durationHistogram(*registry_, "testfleet_worker_setup_seconds",
                                       "Time of an attempt outside its sandbox's run: workspace, bundle fetch, "
                                       "preparing its environment, scripts, reading the report")),
      queue_wait_seconds_(durationHistogram(*registry_, "testfleet_worker_queue_wait_seconds",
                                            "How long delivered jobs waited on their topic: from enqueued (or due, "
                                            "after a retry) until a slot took them")) {
  prometheus::BuildGauge()
      .Name("testfleet_worker_slots")
      .Help("Slots of this worker: jobs it runs at once")
      .Register(*registry_)
      .Add({})
      .Set(slots);
  metrics::addBuildInfo(*registry_);
  metrics::addVerdictSeries(attempts_);
  for (const char* where : {"in_place", "retry_topic"}) retries_.Add({{"where", where}});
  for (const char* reason : {"gave_up", "not_a_job", "unwritable"}) dead_letters_.Add({{"reason", reason}});
  for (const char* outcome : {"prepared", "reused", "failed"}) environments_.Add({{"outcome", outcome}});
}

void WorkerMetrics::jobStarted() { busy_.Increment(); }

void WorkerMetrics::jobFinished(const v1::Result& r) {
  busy_.Decrement();
  attempts_.Add({{"verdict", std::string(verdictName(r.verdict()))}}).Increment();
  job_seconds_.Observe(r.usage().wall_ms() / 1000.0);
  setup_seconds_.Observe(setupSeconds(r));
  if (r.has_environment()) {
    const char* outcome = r.stage() == "environment" ? "failed" : r.environment().prepared() ? "prepared" : "reused";
    environments_.Add({{"outcome", outcome}}).Increment();
  }
}

double WorkerMetrics::busySlots() const { return busy_.Value(); }

void WorkerMetrics::delivered(const v1::Job& job, int64_t now_ms) {
  queue_wait_seconds_.Observe(queueWaitSeconds(job, now_ms));
}

void WorkerMetrics::routed(Route::Kind kind) {
  switch (kind) {
    case Route::Kind::kInPlace:
      retries_.Add({{"where", "in_place"}}).Increment();
      break;
    case Route::Kind::kLater:
      retries_.Add({{"where", "retry_topic"}}).Increment();
      break;
    case Route::Kind::kRerun:
      reruns_.Increment();
      break;
    case Route::Kind::kGiveUp:  // its dead letter is reported by deadLettered
    case Route::Kind::kFinished:
      break;
  }
}

void WorkerMetrics::deadLettered(DeadLetterReason reason) {
  const char* name = reason == DeadLetterReason::kGaveUp    ? "gave_up"
                     : reason == DeadLetterReason::kNotAJob ? "not_a_job"
                                                            : "unwritable";
  dead_letters_.Add({{"reason", name}}).Increment();
}

std::string WorkerMetrics::serialize() const { return metrics::exposition(*registry_); }

}  // namespace testfleet::worker
