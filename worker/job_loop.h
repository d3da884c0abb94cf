// The worker's loop: one thread (the caller of run()) takes runnable records from a JobSource and hands them to a
// fixed pool of slot threads; each slot runs its job through the JobExecutor, routes every attempt's outcome
// (OutcomeRouter: result, in-place retry, retry topic, rerun or dead letter) and commits the records with the
// job's offset through the ResultSink, all or nothing. The source never has two jobs of one partition out, so
// offsets are committed in order; a job whose partition is revoked is cancelled and left uncommitted for its next
// owner. A job of a cancelled run (CancelledRuns, common/run_cancels.h) is not started: its final CANCELLED result
// is committed in its place; a running one is stopped and committed CANCELLED too. Only the loop's thread touches
// the source; the sink and the executor are called from the slots.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "common/kafka/kafka.h"
#include "common/kafka/topics.h"
#include "common/run_cancels.h"
#include "worker/buffered_job_source.h"
#include "worker/job_executor.h"
#include "worker/job_loop_events.h"
#include "worker/job_source.h"
#include "worker/outcome_router.h"
#include "worker/result_sink.h"
#include "worker/retry_policy.h"

namespace testfleet::worker {

struct JobLoopSettings {
  kafka::ClientSettings kafka;
  kafka::ClientHealth* consumer_health = nullptr;  // the jobs consumer reports here, for /readyz (may be null)
  kafka::Topics topics;
  std::string group_id = "testfleet-workers";  // the worker's options: <topic prefix>-workers unless --group
  std::string worker_id;
  std::string transactional_id;  // <prefix>-worker-<worker id> (--transactional-id-prefix): a restart with the same id
                                 // fences the last
  int slots = 2;
  std::chrono::milliseconds grace{std::chrono::seconds(30)};  // SIGTERM: how long running jobs may finish
  size_t max_job_bytes = 8 << 20;
  size_t max_buffered_bytes = 64 << 20;  // fetched, not yet started jobs held in memory before pausing
  RetrySettings retry;
  uint32_t max_reruns = 10;                    // a job's `reruns` is untrusted: at most this many are done
  size_t max_result_record_bytes = 900 << 10;  // a bigger result travels in parts (common/result_parts.h)

  RouterSettings router() const;
  SourceSettings source() const;
  kafka::GroupConsumerSettings consumer() const;  // the jobs topic and the retry topics
};

// Signals from outside (main's signal thread): the first stop drains, the second (or the grace deadline) hands
// running jobs back uncommitted.
struct StopSignals {
  std::atomic<bool> drain{false};
  std::atomic<bool> abandon{false};
};

class JobLoop {
 public:
  // source, sink, executor, events and cancels (when given) must outlive the loop.
  JobLoop(const JobLoopSettings& settings, JobSource& source, ResultSink& sink, JobExecutor& executor,
          JobLoopEvents* events = nullptr, const CancelledRuns* cancels = nullptr);
  // Cancels running jobs and joins the slot threads, however run() ended.
  ~JobLoop();
  JobLoop(const JobLoop&) = delete;
  JobLoop& operator=(const JobLoop&) = delete;

  // Runs until a stop signal; returns 0 after a clean drain, 1 after a fatal Kafka error: the sink's (running jobs
  // are cancelled and have ended when it returns) or the consumer's (the slot threads are joined before it returns).
  int run(const StopSignals& stop);

 private:
  class Slots;
  bool startRunnable();
  CommitOutcome commitInline(const JobLease& lease, const std::vector<kafka::OutgoingRecord>& records);
  void settleInline(const JobLease& lease, CommitOutcome outcome);
  void deadLetterInline(const JobLease& lease, const std::string& problem);
  void cancelInline(const JobLease& lease, const v1::Job& job);
  // Slot thread: true when committed. `halt` stops the executor: set when the lease is cancelled or the run is.
  bool runJob(const JobLease& lease, const v1::Job& job, const std::atomic<bool>& halt);
  bool runCancelled(const std::string& run_id) const { return cancels_ && cancels_->cancelled(run_id); }

  const JobLoopSettings settings_;
  const OutcomeRouter router_;
  JobSource& source_;
  ResultSink& sink_;
  JobExecutor& executor_;
  JobLoopEvents* events_;         // may be null
  const CancelledRuns* cancels_;  // may be null: no run is cancelled
  std::atomic<bool> fatal_{false};
  int running_ = 0;               // jobs handed to the slots and not reported back (loop thread)
  std::unique_ptr<Slots> slots_;  // last: destroyed (joined) first
};

// A decoded job record, or why it is not one this worker runs.
struct DecodedJob {
  std::optional<v1::Job> job;
  std::string problem;
};
DecodedJob decodeJob(const kafka::Message& record, size_t max_job_bytes);

}  // namespace testfleet::worker
