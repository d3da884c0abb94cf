#include "worker/job_loop.h"

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "common/clock.h"

namespace testfleet::worker {
namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

RouterSettings JobLoopSettings::router() const {
  return {topics, retry, max_reruns, max_result_record_bytes, worker_id};
}

kafka::GroupConsumerSettings JobLoopSettings::consumer() const {
  kafka::GroupConsumerSettings cs;
  cs.client = kafka;
  cs.group_id = group_id;
  cs.health = consumer_health;
  cs.topics = {topics.jobs};
  cs.topics.insert(cs.topics.end(), topics.retries.begin(), topics.retries.end());
  return cs;
}

SourceSettings JobLoopSettings::source() const {
  SourceSettings s;
  s.topics = topics;
  s.retry_delays = retry.delays;
  s.max_ready_count = static_cast<size_t>(slots) * 64;
  s.max_ready_bytes = max_buffered_bytes;
  return s;
}

DecodedJob decodeJob(const kafka::Message& record, size_t max_job_bytes) {
  if (record.payload.size() > max_job_bytes) {
    return {std::nullopt, "job record of " + std::to_string(record.payload.size()) + " bytes is over the limit of " +
                              std::to_string(max_job_bytes)};
  }
  v1::Job job;
  if (!job.ParseFromString(record.payload)) return {std::nullopt, "job record does not decode as testfleet.v1.Job"};
  if (job.schema_version() != 1) {
    return {std::nullopt,
            "job record has schema version " + std::to_string(job.schema_version()) + "; this worker reads version 1"};
  }
  if (job.run_id().empty() || job.job_id().empty()) return {std::nullopt, "job record has no run_id or job_id"};
  return {std::move(job), ""};
}

// The slot threads: each takes the next started job, runs it to its commit and reports back. The destructor
// cancels what runs, drops what waits, and joins. Each job has a halt flag for its executor, set by halt() (from
// the loop's thread) when its lease is cancelled or its run is, and by cancelAll().
class JobLoop::Slots {
 public:
  struct Ended {
    kafka::TopicPartition tp;
    uint64_t token = 0;
    bool committed = false;
  };
  using Work = std::function<bool(const JobLease&, const v1::Job&, const std::atomic<bool>& halt)>;

  Slots(int count, Work work) : work_(std::move(work)) {
    for (int i = 0; i < count; ++i) threads_.emplace_back([this](const std::stop_token& stop) { slotMain(stop); });
  }

  ~Slots() {
    cancelAll();
    {
      std::lock_guard lock(mu_);
      queue_.clear();
    }
    for (auto& t : threads_) t.request_stop();
    cv_.notify_all();
    threads_.clear();  // joins
  }

  void start(JobLease lease, v1::Job job) {
    {
      std::lock_guard lock(mu_);
      auto halt = std::make_shared<std::atomic<bool>>(false);
      in_flight_.push_back({lease.cancel, halt, job.run_id()});
      queue_.push_back({std::move(lease), std::move(job), std::move(halt)});
    }
    cv_.notify_one();
  }

  std::vector<Ended> takeEnded() {
    std::lock_guard lock(mu_);
    return std::exchange(ended_, {});
  }

  void cancelAll() {
    std::lock_guard lock(mu_);
    for (const auto& f : in_flight_) {
      f.cancel->store(true);
      f.halt->store(true);
    }
  }

  // Halts the jobs whose lease was cancelled (their partition revoked) or whose run is cancelled.
  void halt(const std::function<bool(const std::string& run_id)>& run_cancelled) {
    std::lock_guard lock(mu_);
    for (const auto& f : in_flight_) {
      if (!f.halt->load() && (f.cancel->load() || run_cancelled(f.run_id))) f.halt->store(true);
    }
  }

 private:
  struct Started {
    JobLease lease;
    v1::Job job;
    std::shared_ptr<std::atomic<bool>> halt;
  };
  struct InFlight {
    std::shared_ptr<std::atomic<bool>> cancel;  // the lease's
    std::shared_ptr<std::atomic<bool>> halt;
    std::string run_id;
  };

  void slotMain(const std::stop_token& stop) {
    for (;;) {
      Started s;
      {
        std::unique_lock lock(mu_);
        if (!cv_.wait(lock, stop, [&] { return !queue_.empty(); })) return;
        s = std::move(queue_.front());
        queue_.pop_front();
      }
      const bool committed = work_(s.lease, s.job, *s.halt);
      std::lock_guard lock(mu_);
      std::erase_if(in_flight_, [&](const InFlight& f) { return f.halt == s.halt; });
      ended_.push_back({s.lease.record.tp, s.lease.token, committed});
    }
  }

  Work work_;
  std::mutex mu_;  // guards queue_, ended_, in_flight_
  std::condition_variable_any cv_;
  std::deque<Started> queue_;
  std::vector<Ended> ended_;
  std::vector<InFlight> in_flight_;    // queued and running jobs
  std::vector<std::jthread> threads_;  // last: joined before the rest goes
};

JobLoop::JobLoop(const JobLoopSettings& settings, JobSource& source, ResultSink& sink, JobExecutor& executor,
                 JobLoopEvents* events, const CancelledRuns* cancels)
    : settings_(settings),
      router_(settings.router()),
      source_(source),
      sink_(sink),
      executor_(executor),
      events_(events),
      cancels_(cancels) {
  slots_ = std::make_unique<Slots>(settings_.slots,
                                   [this](const JobLease& lease, const v1::Job& job, const std::atomic<bool>& halt) {
                                     return runJob(lease, job, halt);
                                   });
}

JobLoop::~JobLoop() = default;

int JobLoop::run(const StopSignals& stop) {
  bool draining = false, abandoned = false;
  Clock::time_point drain_deadline;
  int rc = 0;
  try {
    for (;;) {
      if (stop.drain && !draining) {
        draining = true;
        drain_deadline = Clock::now() + settings_.grace;
        source_.drain();
        spdlog::info("stopping: no new jobs; {} running job(s) get {} s to finish", running_,
                     std::chrono::duration_cast<std::chrono::seconds>(settings_.grace).count());
      }
      if (draining && !abandoned && running_ > 0 && (stop.abandon || Clock::now() >= drain_deadline)) {
        spdlog::warn("handing back {} running job(s) uncommitted", running_);
        abandoned = true;
        slots_->cancelAll();
      }
      if (fatal_ && rc == 0) {
        spdlog::error("the worker stops after a fatal Kafka error; running jobs are handed back");
        slots_->cancelAll();
        draining = abandoned = true;
        source_.drain();
        rc = 1;
      }
      slots_->halt([this](const std::string& run_id) { return runCancelled(run_id); });
      for (const auto& e : slots_->takeEnded()) {
        --running_;
        source_.finished(e.tp, e.token, e.committed ? LeaseEnd::kConsumed : LeaseEnd::kHandedBack);
      }
      if (draining && running_ == 0) break;
      if (!draining && !startRunnable()) continue;
      // Short polls while jobs run, so a finished slot gets its next job quickly.
      source_.poll(running_ > 0 ? std::chrono::milliseconds(5) : std::chrono::milliseconds(100));
    }
  } catch (const kafka::Error& e) {
    spdlog::critical("the job source failed, the worker stops (running jobs are handed back): {}", e.what());
    slots_.reset();  // cancels and joins
    return 1;
  }
  source_.close();
  spdlog::info("worker {} left the group", settings_.worker_id);
  return rc;
}

// Hands runnable records to free slots. Records that are not jobs, and retry records to move, are committed here;
// one whose commit failed pauses its partition (JobSource::finished), so the others still start. Returns false
// once the sink is gone for good.
bool JobLoop::startRunnable() {
  while (running_ < settings_.slots) {
    std::optional<JobLease> lease = source_.next();
    if (!lease) break;
    const kafka::Message& m = lease->record;
    if (lease->kind == JobLease::Kind::kMoveToEnd) {
      settleInline(*lease, commitInline(*lease, {{m.tp.topic, m.key, m.payload}}));
      continue;
    }
    DecodedJob decoded = decodeJob(m, settings_.max_job_bytes);
    if (!decoded.job) {
      deadLetterInline(*lease, decoded.problem);
      continue;
    }
    if (runCancelled(decoded.job->run_id())) {
      cancelInline(*lease, *decoded.job);
      continue;
    }
    spdlog::debug("job {} from {}[{}]@{}", decoded.job->name(), m.tp.topic, m.tp.partition, m.offset);
    ++running_;
    slots_->start(std::move(*lease), std::move(*decoded.job));
  }
  return !fatal_;
}

CommitOutcome JobLoop::commitInline(const JobLease& lease, const std::vector<kafka::OutgoingRecord>& records) {
  const CommitOutcome outcome =
      sink_.commit(records, lease.record.tp, lease.record.offset, {lease.cancel.get(), lease.member_id});
  if (outcome == CommitOutcome::kFatal) fatal_ = true;
  return outcome;
}

void JobLoop::settleInline(const JobLease& lease, CommitOutcome outcome) {
  const LeaseEnd end = outcome == CommitOutcome::kCommitted ? LeaseEnd::kConsumed
                       : outcome == CommitOutcome::kRefused ? LeaseEnd::kRefused
                                                            : LeaseEnd::kHandedBack;
  source_.finished(lease.record.tp, lease.token, end);
}

// A job of a cancelled run is not run: its final CANCELLED result is committed with its offset.
void JobLoop::cancelInline(const JobLease& lease, const v1::Job& job) {
  spdlog::info("job {}/{} is not run: its run was cancelled", job.run_id(), job.name());
  const Route route = router_.cancelledRun(job, nullptr, nowMillis());
  const CommitOutcome outcome = commitInline(lease, route.records);
  settleInline(lease, outcome == CommitOutcome::kRefused ? CommitOutcome::kNotCommitted : outcome);
}

// A record that is not a job goes to the dead-letter topic. When Kafka refuses that dead letter for good, a bare
// one (reason and origin, no payload) is tried, and when that is refused too the offset is committed alone: a
// record nobody can run must not block its partition for ever.
void JobLoop::deadLetterInline(const JobLease& lease, const std::string& problem) {
  const kafka::Message& m = lease.record;
  spdlog::error("job record {}[{}]@{} goes to the dead-letter topic: {}", m.tp.topic, m.tp.partition, m.offset,
                problem);
  if (events_) events_->deadLettered(DeadLetterReason::kNotAJob);
  CommitOutcome outcome = commitInline(lease, {router_.deadLetter(m, problem)});
  if (outcome == CommitOutcome::kRefused) {
    kafka::Message bare = m;
    bare.payload.clear();
    outcome = commitInline(lease, {router_.deadLetter(bare, problem + " (its payload is not kept: the dead letter "
                                                                      "with it was refused)")});
  }
  if (outcome == CommitOutcome::kRefused) {
    spdlog::critical("job record {}[{}]@{} is skipped WITHOUT a dead letter: Kafka refuses it for good ({})",
                     m.tp.topic, m.tp.partition, m.offset, problem);
    outcome = commitInline(lease, {});
  }
  settleInline(lease, outcome == CommitOutcome::kRefused ? CommitOutcome::kNotCommitted : outcome);
}

// Slot thread: runs the job, retrying ERROR in place as the router says, and commits every attempt's records with
// the job's offset in one transaction.
bool JobLoop::runJob(const JobLease& lease, const v1::Job& delivered, const std::atomic<bool>& halt) {
  static thread_local std::mt19937 rng{std::random_device{}()};
  const std::atomic<bool>& cancel = *lease.cancel;
  const JobOrigin origin{lease.record.tp, lease.record.offset};
  std::vector<kafka::OutgoingRecord> records;
  v1::Job job = delivered;
  if (events_) events_->delivered(delivered, nowMillis());
  for (uint32_t in_place = 0;; ++in_place) {
    v1::Result result = executor_.run(job, halt);
    spdlog::info("job {}/{} attempt {}: {} in {} ms{}", job.run_id(), job.name(), job.attempt(),
                 v1::Verdict_Name(result.verdict()), result.usage().wall_ms(),
                 result.error().empty() ? "" : " (" + result.error().substr(0, 200) + ")");
    // A revoked job is handed back whatever its result; one whose run was cancelled ends CANCELLED.
    Route route = !cancel.load() && runCancelled(job.run_id())
                      ? router_.cancelledRun(job, &result, nowMillis())
                      : router_.route(job, std::move(result), in_place, origin, cancel.load(), rng, nowMillis());
    if (events_) events_->routed(route.kind);
    if (events_ && route.kind == Route::Kind::kGiveUp) events_->deadLettered(DeadLetterReason::kGaveUp);
    records.insert(records.end(), std::make_move_iterator(route.records.begin()),
                   std::make_move_iterator(route.records.end()));
    if (route.kind == Route::Kind::kLater) {
      spdlog::warn("job {}/{} goes to a retry topic (due in {} s) after attempt {}", job.run_id(), job.name(),
                   route.wait.count() / 1000, job.attempt());
    } else if (route.kind == Route::Kind::kGiveUp) {
      spdlog::error("job {}/{} gave up after {} attempts; final ERROR and a dead letter", job.run_id(), job.name(),
                    job.attempt());
    }
    if (route.kind != Route::Kind::kInPlace) break;
    for (auto until = Clock::now() + route.wait; Clock::now() < until && !halt.load();) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    job = std::move(route.next);
  }
  const auto commit_start = Clock::now();
  const CommitGuard guard{&cancel, lease.member_id};
  CommitOutcome outcome =
      cancel.load() ? CommitOutcome::kNotCommitted : sink_.commit(records, origin.tp, origin.offset, guard);
  if (outcome == CommitOutcome::kRefused) {
    records = router_.unwritable(delivered, origin, records.size(), nowMillis());
    if (events_) events_->deadLettered(DeadLetterReason::kUnwritable);
    outcome = sink_.commit(records, origin.tp, origin.offset, guard);
  }
  if (outcome == CommitOutcome::kFatal) fatal_ = true;
  const bool committed = outcome == CommitOutcome::kCommitted;
  spdlog::info("job {}/{} from attempt {}: {} record(s) {} in {} ms", delivered.run_id(), delivered.name(),
               delivered.attempt(), records.size(), committed ? "committed" : "not committed (it runs again)",
               std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - commit_start).count());
  return committed;
}

}  // namespace testfleet::worker
