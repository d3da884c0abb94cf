#include <doctest/doctest.h>

#include <string>

#include "worker/worker_metrics.h"

using namespace testfleet;
using namespace testfleet::worker;

namespace {
bool has(const std::string& text, const std::string& line) { return text.find(line + "\n") != std::string::npos; }

v1::Result attempt(v1::Verdict verdict, int64_t started_ms, int64_t finished_ms, uint32_t wall_ms) {
  v1::Result r;
  r.set_verdict(verdict);
  r.set_started_at_ms(started_ms);
  r.set_finished_at_ms(finished_ms);
  r.mutable_usage()->set_wall_ms(wall_ms);
  return r;
}
}  // namespace

TEST_CASE("worker metrics: set-up time is an attempt's span outside its sandbox run, never below 0") {
  CHECK(setupSeconds(attempt(v1::PASSED, 1'000, 4'500, 3'000)) == doctest::Approx(0.5));
  CHECK(setupSeconds(attempt(v1::PASSED, 1'000, 1'000, 20)) == 0);  // clocks disagree: 0, not negative
}

TEST_CASE("worker metrics: a job waited from when it was enqueued, or when its retry became due") {
  v1::Job job;
  CHECK(queueWaitSeconds(job, 5'000) == 0);  // unknown: not counted as 5 s
  job.set_enqueued_at_ms(1'000);
  CHECK(queueWaitSeconds(job, 3'500) == doctest::Approx(2.5));
  job.set_not_before_ms(3'000);  // a retry: it could not start before it was due
  CHECK(queueWaitSeconds(job, 3'500) == doctest::Approx(0.5));
  CHECK(queueWaitSeconds(job, 2'000) == 0);
}

TEST_CASE("worker metrics: every series starts at 0; retries, reruns and dead letters are apart from verdicts") {
  WorkerMetrics m(4);
  std::string text = m.serialize();
  CHECK(has(text, "testfleet_worker_slots 4"));
  CHECK(has(text, "testfleet_worker_slots_busy 0"));
  CHECK(has(text, R"(testfleet_worker_jobs_total{verdict="error"} 0)"));
  CHECK(has(text, R"(testfleet_worker_jobs_total{verdict="passed"} 0)"));
  CHECK(has(text, R"(testfleet_worker_retries_total{where="in_place"} 0)"));
  CHECK(has(text, R"(testfleet_worker_dead_letters_total{reason="gave_up"} 0)"));
  CHECK(has(text, "testfleet_worker_reruns_total 0"));
  CHECK(text.find("testfleet_build_info{") != std::string::npos);
  CHECK(text.find("process_open_fds ") != std::string::npos);

  // An ERROR retried in place, then passed: one attempt of each verdict, one retry, no dead letter.
  m.jobStarted();
  CHECK(m.busySlots() == 1);
  m.jobFinished(attempt(v1::ERROR, 0, 100, 50));
  m.routed(Route::Kind::kInPlace);
  m.jobStarted();
  m.jobFinished(attempt(v1::PASSED, 200, 300, 100));
  m.routed(Route::Kind::kFinished);
  m.routed(Route::Kind::kLater);
  m.routed(Route::Kind::kRerun);
  m.routed(Route::Kind::kGiveUp);  // its dead letter comes through deadLettered
  m.deadLettered(DeadLetterReason::kGaveUp);
  m.deadLettered(DeadLetterReason::kNotAJob);
  m.delivered(v1::Job{}, 0);
  text = m.serialize();
  CHECK(has(text, "testfleet_worker_slots_busy 0"));
  CHECK(has(text, R"(testfleet_worker_jobs_total{verdict="error"} 1)"));
  CHECK(has(text, R"(testfleet_worker_jobs_total{verdict="passed"} 1)"));
  CHECK(has(text, R"(testfleet_worker_retries_total{where="in_place"} 1)"));
  CHECK(has(text, R"(testfleet_worker_retries_total{where="retry_topic"} 1)"));
  CHECK(has(text, "testfleet_worker_reruns_total 1"));
  CHECK(has(text, R"(testfleet_worker_dead_letters_total{reason="gave_up"} 1)"));
  CHECK(has(text, R"(testfleet_worker_dead_letters_total{reason="not_a_job"} 1)"));
  CHECK(has(text, R"(testfleet_worker_dead_letters_total{reason="unwritable"} 0)"));
  CHECK(has(text, "testfleet_worker_job_duration_seconds_count 2"));
  CHECK(has(text, "testfleet_worker_setup_seconds_count 2"));
  CHECK(has(text, "testfleet_worker_queue_wait_seconds_count 1"));
}

TEST_CASE("attempts with an environment count whether they prepared it, reused it, or failed preparing it") {
  WorkerMetrics m(2);
  CHECK(has(m.serialize(), R"(testfleet_worker_environments_total{outcome="prepared"} 0)"));
  v1::Result prepared = attempt(v1::PASSED, 0, 100, 50), reused = prepared, failed = attempt(v1::ERROR, 0, 100, 0),
             plain = prepared;
  prepared.mutable_environment()->set_prepared(true);
  reused.mutable_environment()->set_sha256("k");
  failed.mutable_environment()->set_sha256("k");
  failed.set_stage("environment");
  for (const auto& r : {prepared, reused, reused, failed, plain}) {
    m.jobStarted();
    m.jobFinished(r);
  }
  const std::string text = m.serialize();
  CHECK(has(text, R"(testfleet_worker_environments_total{outcome="prepared"} 1)"));
  CHECK(has(text, R"(testfleet_worker_environments_total{outcome="reused"} 2)"));
  CHECK(has(text, R"(testfleet_worker_environments_total{outcome="failed"} 1)"));
}
