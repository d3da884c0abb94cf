// The worker's Kafka loop. One thread (the caller of run()) polls the jobs topic the whole time, so jobs may run
// longer than max.poll.interval.ms; jobs run on a fixed pool of slot threads. Fetched jobs wait in bounded
// per-partition buffers; each partition has at most one job in flight, so offsets are committed in order.
// A job that ends in ERROR is retried as RetrySettings says: in place, or through a retry topic that this same loop
// consumes (a retry record is held until it is due), or given up with a final ERROR and a dead letter. Every attempt's
// result, the retry or dead-letter record and the offset go into the one transaction. The result and the consumed offset are written in one Kafka transaction (exactly once); a job whose
// partition is revoked is cancelled and left uncommitted for its next owner.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "common/kafka/kafka.h"
#include "common/kafka/topics.h"
#include "worker/job_executor.h"
#include "worker/retry_policy.h"

namespace testfleet::worker {

struct JobLoopSettings {
  kafka::ClientSettings kafka;
  kafka::Topics topics;
  std::string group_id = "testfleet-workers";
  std::string worker_id;
  int slots = 2;
  std::chrono::milliseconds grace{std::chrono::seconds(30)};  // SIGTERM: how long running jobs may finish
  size_t max_job_bytes = 8 << 20;
  size_t max_buffered_bytes = 64 << 20;  // fetched, not yet started jobs held in memory before pausing
  RetrySettings retry;
  uint32_t max_reruns = 10;  // a job's `reruns` is untrusted: at most this many are done
  size_t max_result_record_bytes = 900 << 10;  // a bigger result travels in parts (common/result_parts.h)
};

// Signals from outside (main's signal thread): the first stop drains, the second (or the grace deadline) hands
// running jobs back uncommitted.
struct StopSignals {
  std::atomic<bool> drain{false};
  std::atomic<bool> abandon{false};
};

class JobLoop {
 public:
  JobLoop(JobLoopSettings settings, JobExecutor& runner);
  ~JobLoop();
  // Runs until a stop signal; returns 0 after a clean drain, non-zero after a fatal Kafka error.
  int run(const StopSignals& stop);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace testfleet::worker
