// What a job's attempt turns into on Kafka: the outcome router takes an attempt's result and says which records
// the job's one transaction writes (its result, and a rerun, retry or dead letter when the job is not finished
// here) or that the job runs again in place. Pure: no I/O, the randomness of the backoff comes from the caller,
// so every route is unit-tested. Thread-safe (const); slot threads share one router.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "common/kafka/kafka.h"
#include "common/kafka/topics.h"
#include "testfleet/v1/testfleet.pb.h"
#include "worker/retry_policy.h"

namespace testfleet::worker {

struct RouterSettings {
  kafka::Topics topics;
  RetrySettings retry;
  uint32_t max_reruns = 10;                    // a job's `reruns` is untrusted: at most this many are done
  size_t max_result_record_bytes = 900 << 10;  // a bigger result travels in parts (common/result_parts.h)
  std::string worker_id;                       // named in dead letters
};

// Where a job's record was read from; a dead letter points back at it.
struct JobOrigin {
  kafka::TopicPartition tp;
  int64_t offset = 0;
};

struct Route {
  enum class Kind {
    kFinished,  // the result is final (passed, failed, ERROR after a cancel, or CANCELLED: its run was cancelled)
    kRerun,     // FAILED with reruns left: the rerun goes back to the jobs topic (flaky-test detection)
    kInPlace,   // ERROR: run `next` again here after `wait`; the records so far go with the last attempt
    kLater,     // ERROR: the job goes to a retry topic, due after `wait`
    kGiveUp,    // ERROR with attempts exhausted: final ERROR and a dead letter
  };
  Kind kind = Kind::kFinished;
  std::vector<kafka::OutgoingRecord> records;  // to append to the job's transaction
  std::chrono::milliseconds wait{0};           // kInPlace: backoff; kLater: the retry topic's delay
  v1::Job next;                                // kInPlace: the job's next attempt
};

class OutcomeRouter {
 public:
  explicit OutcomeRouter(RouterSettings settings) : settings_(std::move(settings)) {}

  // Routes one attempt of `job`. in_place_done: the tries already made in place in this delivery; cancelled: the
  // job was cancelled (partition revoked, worker stopping), so it is never retried or rerun; now_ms: wall clock
  // for a retry's due time.
  Route route(const v1::Job& job, v1::Result result, uint32_t in_place_done, const JobOrigin& origin, bool cancelled,
              std::mt19937& rng, int64_t now_ms) const;

  // A job of a cancelled run (common/run_cancels.h): one final CANCELLED result, never retried or rerun. `ran` is
  // the attempt the cancel cut short (its output and usage are kept), or null when the job was not started.
  Route cancelledRun(const v1::Job& job, const v1::Result* ran, int64_t now_ms) const;

  // What replaces a job's records that Kafka refused for good (`refused` of them): a small final ERROR saying why
  // and the job as a dead letter, so the run gets a verdict and the job does not loop.
  std::vector<kafka::OutgoingRecord> unwritable(const v1::Job& job, const JobOrigin& origin, size_t refused,
                                                int64_t now_ms) const;

  // A record that is not a job this worker can run, as a dead letter.
  kafka::OutgoingRecord deadLetter(const kafka::Message& record, const std::string& reason) const;

  const RouterSettings& settings() const { return settings_; }

 private:
  RouterSettings settings_;
};

}  // namespace testfleet::worker
