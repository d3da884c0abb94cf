#include "worker/outcome_router.h"

#include <algorithm>

#include "common/dead_letter.h"
#include "worker/result_builder.h"
#include "worker/result_records.h"

namespace testfleet::worker {
namespace {

std::string jobKey(const v1::Job& job) { return job.run_id() + "/" + job.job_id(); }

}  // namespace

Route OutcomeRouter::route(const v1::Job& job, v1::Result result, uint32_t in_place_done, const JobOrigin& origin,
                           bool cancelled, std::mt19937& rng, int64_t now_ms) const {
  Route r;
  const auto append = [&](const v1::Result& res) {
    appendResultRecords(r.records, settings_.topics.results, res, settings_.max_result_record_bytes);
  };
  const uint32_t reruns = std::min(job.reruns(), settings_.max_reruns);
  if (result.verdict() == v1::FAILED && reruns > 0 && !cancelled) {
    // Flaky-test detection: the rerun runs in a fresh sandbox on whichever worker is free.
    result.set_final(false);
    append(result);
    v1::Job rerun = job;
    rerun.set_attempt(job.attempt() + 1);
    rerun.set_reruns(reruns - 1);
    rerun.set_not_before_ms(0);
    r.records.push_back({settings_.topics.jobs, jobKey(rerun), rerun.SerializeAsString()});
    r.kind = Route::Kind::kRerun;
    return r;
  }
  if (result.verdict() != v1::ERROR || cancelled) {
    append(result);
    return r;
  }
  const RetryDecision d = decideRetry(settings_.retry, job.attempt(), in_place_done, job.retry_hops(), rng);
  r.wait = d.wait;
  const bool give_up = d.kind == RetryDecision::Kind::kGiveUp;
  result.set_final(give_up);
  if (give_up) result.set_error("gave up after " + std::to_string(job.attempt()) + " attempts: " + result.error());
  append(result);
  switch (d.kind) {
    case RetryDecision::Kind::kInPlace:
      r.kind = Route::Kind::kInPlace;
      r.next = job;
      r.next.set_attempt(job.attempt() + 1);
      return r;
    case RetryDecision::Kind::kLater: {
      r.kind = Route::Kind::kLater;
      v1::Job retry = job;
      retry.set_attempt(job.attempt() + 1);
      retry.set_not_before_ms(now_ms + d.wait.count());
      retry.set_retry_reason(result.error().substr(0, 1000));
      if (retry.origin_topic().empty()) retry.set_origin_topic(origin.tp.topic);
      retry.set_retry_hops(job.retry_hops() + 1);
      r.records.push_back({settings_.topics.retries.at(d.topic_index), jobKey(retry), retry.SerializeAsString()});
      return r;
    }
    case RetryDecision::Kind::kGiveUp:
      break;
  }
  r.kind = Route::Kind::kGiveUp;
  const v1::DeadLetter dl =
      makeDeadLetter("attempts exhausted (" + std::to_string(job.attempt()) + "): " + result.error().substr(0, 1000),
                     origin.tp, origin.offset, jobKey(job), job.SerializeAsString(), "worker " + settings_.worker_id);
  r.records.push_back({settings_.topics.dead_letters, dl.key(), dl.SerializeAsString()});
  return r;
}

Route OutcomeRouter::cancelledRun(const v1::Job& job, const v1::Result* ran, int64_t now_ms) const {
  const std::string why = ran ? "its run was cancelled while it ran" : "its run was cancelled before it started";
  v1::Result r = ran ? *ran : resultFor(job, settings_.worker_id);
  r.set_verdict(v1::CANCELLED);
  r.set_error(why);
  r.set_final(true);
  if (!ran) r.set_started_at_ms(now_ms);
  r.set_finished_at_ms(now_ms);
  if (r.cases().empty()) {
    v1::TestCase* c = r.add_cases();
    c->set_name(job.name());
    c->set_classname(job.name());
    c->set_message(why);
  }
  for (auto& c : *r.mutable_cases()) c.set_status(v1::CANCELLED);
  Route route;
  appendResultRecords(route.records, settings_.topics.results, r, settings_.max_result_record_bytes);
  return route;
}

std::vector<kafka::OutgoingRecord> OutcomeRouter::unwritable(const v1::Job& job, const JobOrigin& origin,
                                                             size_t refused, int64_t now_ms) const {
  const std::string why =
      "the job's result could not be written to Kafka and will not be tried again (" + std::to_string(refused) +
      " record(s) refused for good: too large or not authorised; see worker " + settings_.worker_id + "'s log)";
  v1::Result r = resultFor(job, settings_.worker_id);
  r.set_verdict(v1::ERROR);
  r.set_stage("result");
  r.set_error(why);
  r.set_final(true);
  r.set_finished_at_ms(now_ms);
  v1::TestCase* c = r.add_cases();
  c->set_name(job.name());
  c->set_classname(job.name());
  c->set_status(v1::ERROR);
  c->set_message(why);
  const v1::DeadLetter dl = makeDeadLetter(why, origin.tp, origin.offset, jobKey(job), job.SerializeAsString(),
                                           "worker " + settings_.worker_id);
  return {{settings_.topics.results, r.run_id(), r.SerializeAsString()},
          {settings_.topics.dead_letters, dl.key(), dl.SerializeAsString()}};
}

kafka::OutgoingRecord OutcomeRouter::deadLetter(const kafka::Message& record, const std::string& reason) const {
  const v1::DeadLetter dl =
      makeDeadLetter(reason, record.tp, record.offset, record.key, record.payload, "worker " + settings_.worker_id);
  return {settings_.topics.dead_letters, record.key, dl.SerializeAsString()};
}

}  // namespace testfleet::worker
