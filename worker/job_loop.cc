#include "worker/job_loop.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <random>
#include <thread>

#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "common/dead_letter.h"
#include "worker/result_records.h"

namespace testfleet::worker {
namespace {
using kafka::TopicPartition;
using Clock = std::chrono::steady_clock;

struct Work {
  v1::Job job;
  TopicPartition tp;
  int64_t offset = 0;
  uint64_t token = 0;
  std::shared_ptr<std::atomic<bool>> cancel;
  std::string member_id;  // the worker's id in the group when the job started: a different one later means the
                          // group dropped this worker meanwhile, and another may own the job now
};

// How a job's transaction ended.
enum class Committed {
  kYes,
  kNo,         // not written; the job runs again (here, if its partition is still ours)
  kNever,      // the records were refused for good (too large, not authorised): they must not be sent again
};

struct Done {
  TopicPartition tp;
  int64_t offset = 0;
  uint64_t token = 0;
  bool committed = false;
};

struct InFlight {
  kafka::Message message;  // kept so a job whose commit failed can run again without a seek
  uint64_t token = 0;
  std::shared_ptr<std::atomic<bool>> cancel;
};
}  // namespace

struct JobLoop::State : public kafka::RebalanceListener {
  JobLoopSettings settings;
  JobExecutor& runner;
  std::unique_ptr<kafka::GroupConsumer> consumer;
  std::unique_ptr<kafka::TransactionalProducer> producer;

  std::mutex mu;  // guards queue, done, shutting_down
  std::condition_variable cv;
  std::deque<Work> queue;
  std::deque<Done> done;
  bool shutting_down = false;
  std::vector<std::thread> slots;
  std::atomic<bool> fatal{false};

  // Owned by the polling thread (rebalance callbacks run inside poll()).
  std::set<TopicPartition> assigned, paused;
  std::map<TopicPartition, InFlight> busy;
  // Fetched jobs not started yet, per partition in offset order. Partitions are paused only when these buffers
  // are over their bounds: librdkafka 2.0 resumes a paused partition's fetch only on a 1 s timer, so pausing
  // for every job would cost a second per job.
  struct Buffered {
    kafka::Message message;
    int64_t due_ms = 0;  // retry records: not to be started before
  };
  std::map<TopicPartition, std::deque<Buffered>> buffered;
  std::mt19937 rng{std::random_device{}()};  // slot threads: guarded by mu
  size_t buffered_bytes = 0, buffered_count = 0;
  bool backpressure = false;
  int running = 0;
  uint64_t next_token = 1;
  bool stopping = false;  // draining: start nothing new

  State(JobLoopSettings s, JobExecutor& r) : settings(std::move(s)), runner(r) {}

  // Whatever ended the loop (a Kafka error thrown from poll() included), the slot threads are stopped and joined
  // here: running jobs are cancelled, queued ones dropped uncommitted for the partition's next owner.
  ~State() override {
    cancelAll();
    {
      std::lock_guard lock(mu);
      shutting_down = true;
      queue.clear();
    }
    cv.notify_all();
    for (auto& t : slots) {
      if (t.joinable()) t.join();
    }
  }

  void onAssigned(const std::vector<TopicPartition>& tps) override {
    for (const auto& tp : tps) assigned.insert(tp);
    spdlog::info("assigned {} partition(s); now {}", tps.size(), assigned.size());
  }

  void onRevoked(const std::vector<TopicPartition>& tps) override {
    for (const auto& tp : tps) {
      assigned.erase(tp);
      paused.erase(tp);
      dropBuffered(tp);
      if (auto it = busy.find(tp); it != busy.end()) {
        spdlog::warn("partition {}[{}] revoked while its job runs; cancelling it for the next owner", tp.topic,
                     tp.partition);
        it->second.cancel->store(true);
        busy.erase(it);
      }
    }
    spdlog::info("revoked {} partition(s); now {}", tps.size(), assigned.size());
  }

  // Slot thread: run jobs until shutdown; commit each job's results with its offset in one transaction.
  void slotMain() {
    for (;;) {
      Work w;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return shutting_down || !queue.empty(); });
        if (queue.empty()) return;
        w = std::move(queue.front());
        queue.pop_front();
      }
      std::vector<kafka::OutgoingRecord> records = runWithRetries(w);
      Committed outcome = Committed::kNo;
      const auto commit_start = Clock::now();
      if (!w.cancel->load()) outcome = commitRecords(records, w.tp, w.offset, w.cancel.get(), w.member_id);
      if (outcome == Committed::kNever) {
        records = unwritableResult(w, records.size());
        outcome = commitRecords(records, w.tp, w.offset, w.cancel.get(), w.member_id);
      }
      const bool committed = outcome == Committed::kYes;
      const auto commit_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - commit_start).count();
      spdlog::info("job {}/{} from attempt {}: {} record(s) committed in {} ms{}", w.job.run_id(), w.job.name(),
                   w.job.attempt(), records.size(), commit_ms,
                   committed ? "" : " (not committed; it will run again)");
      std::lock_guard lock(mu);
      done.push_back({w.tp, w.offset, w.token, committed});
    }
  }

  // Runs the job, retrying ERROR in place as the policy says; returns every attempt's result plus, when the job
  // is not finished here, its retry record or its dead letter.
  std::vector<kafka::OutgoingRecord> runWithRetries(const Work& w) {
    std::vector<kafka::OutgoingRecord> records;
    v1::Job job = w.job;
    for (uint32_t in_place = 0;; ++in_place) {
      v1::Result result = runner.run(job, *w.cancel);
      spdlog::info("job {}/{} attempt {}: {} in {} ms{}", job.run_id(), job.name(), job.attempt(),
                   v1::Verdict_Name(result.verdict()), result.usage().wall_ms(),
                   result.error().empty() ? "" : " (" + result.error().substr(0, 200) + ")");
      const uint32_t reruns = std::min(job.reruns(), settings.max_reruns);
      if (result.verdict() == v1::FAILED && reruns > 0 && !w.cancel->load()) {
        // Flaky-test detection: run it again in a fresh sandbox on whichever worker is free.
        result.set_final(false);
        appendResultRecords(records, settings.topics.results, result, settings.max_result_record_bytes);
        v1::Job rerun = job;
        rerun.set_attempt(job.attempt() + 1);
        rerun.set_reruns(reruns - 1);
        rerun.set_not_before_ms(0);
        records.push_back({settings.topics.jobs, rerun.run_id() + "/" + rerun.job_id(), rerun.SerializeAsString()});
        return records;
      }
      if (result.verdict() != v1::ERROR || w.cancel->load()) {
        appendResultRecords(records, settings.topics.results, result, settings.max_result_record_bytes);
        return records;
      }
      RetryDecision d;
      {
        std::lock_guard lock(mu);
        d = decideRetry(settings.retry, job.attempt(), in_place, job.retry_hops(), rng);
      }
      result.set_final(d.kind == RetryDecision::Kind::kGiveUp);
      if (d.kind == RetryDecision::Kind::kGiveUp) {
        result.set_error("gave up after " + std::to_string(job.attempt()) + " attempts: " + result.error());
      }
      appendResultRecords(records, settings.topics.results, result, settings.max_result_record_bytes);
      if (d.kind == RetryDecision::Kind::kInPlace) {
        for (auto until = Clock::now() + d.wait; Clock::now() < until && !w.cancel->load();) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        job.set_attempt(job.attempt() + 1);
        continue;
      }
      if (d.kind == RetryDecision::Kind::kLater) {
        v1::Job retry = job;
        retry.set_attempt(job.attempt() + 1);
        retry.set_not_before_ms(nowMillis() + d.wait.count());
        retry.set_retry_reason(result.error().substr(0, 1000));
        if (retry.origin_topic().empty()) retry.set_origin_topic(w.tp.topic);
        retry.set_retry_hops(job.retry_hops() + 1);
        records.push_back({settings.topics.retries[d.topic_index], retry.run_id() + "/" + retry.job_id(),
                           retry.SerializeAsString()});
        spdlog::warn("job {}/{} goes to {} (due in {} s) after attempt {}: {}", job.run_id(), job.name(),
                     settings.topics.retries[d.topic_index], d.wait.count() / 1000, job.attempt(), result.error());
        return records;
      }
      v1::DeadLetter dl =
          makeDeadLetter("attempts exhausted (" + std::to_string(job.attempt()) + "): " + result.error().substr(0, 1000),
                         w.tp, w.offset, job.run_id() + "/" + job.job_id(), job.SerializeAsString(),
                         "worker " + settings.worker_id);
      records.push_back({settings.topics.dead_letters, dl.key(), dl.SerializeAsString()});
      spdlog::error("job {}/{} gave up after {} attempts; final ERROR and a dead letter", job.run_id(), job.name(),
                    job.attempt());
      return records;
    }
  }

  // Writes records and the next offset of tp in one transaction; retries abortable failures a few times. A commit
  // whose outcome is unknown is settled by reading the group's committed offset of tp. Nothing is committed once
  // the group has dropped this worker since the job started (member_id; empty: do not check).
  Committed commitRecords(const std::vector<kafka::OutgoingRecord>& records, const TopicPartition& tp,
                          int64_t offset, const std::atomic<bool>* cancel, const std::string& member_id) {
    for (int attempt = 1; attempt <= 5; ++attempt) {
      if (cancel && cancel->load()) return Committed::kNo;
      if (!member_id.empty() && consumer->memberId() != member_id) {
        spdlog::warn("not committing {}[{}]@{}: the group dropped this worker while the job ran (another worker "
                     "may have it now)", tp.topic, tp.partition, offset);
        return Committed::kNo;
      }
      try {
        producer->commit(records, {{tp, offset + 1}}, *consumer);
        return Committed::kYes;
      } catch (const kafka::Error& e) {
        if (e.isFatal()) {
          spdlog::error("fatal Kafka producer error, the worker will stop: {}", e.what());
          fatal = true;
          return Committed::kNo;
        }
        if (e.isPermanent()) {
          spdlog::error("the records of {}[{}]@{} are refused for good: {}", tp.topic, tp.partition, offset, e.what());
          return Committed::kNever;
        }
        if (e.kind() == kafka::Error::Kind::kUnknownOutcome) {
          if (auto settled = committedSince(tp, offset)) {
            spdlog::warn("transaction for {}[{}]@{} had an unknown outcome: it {}", tp.topic, tp.partition, offset,
                         *settled ? "was committed" : "was not committed; trying again");
            if (*settled) return Committed::kYes;
            continue;
          }
          return Committed::kNo;  // unknown still: the job runs again, and the aggregator drops a second result
        }
        spdlog::warn("transaction for {}[{}]@{} failed (attempt {}): {}", tp.topic, tp.partition, offset, attempt,
                     e.what());
      }
    }
    return Committed::kNo;
  }

  // Whether the group's committed offset of tp is past `offset` (the transaction that consumed it committed), or
  // nullopt when that cannot be read.
  std::optional<bool> committedSince(const TopicPartition& tp, int64_t offset) {
    for (int attempt = 1; attempt <= 5; ++attempt) {
      try {
        return consumer->committedOffset(tp) > offset;
      } catch (const kafka::Error& e) {
        spdlog::warn("reading the committed offset of {}[{}] (attempt {}): {}", tp.topic, tp.partition, attempt,
                     e.what());
        std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
      }
    }
    return std::nullopt;
  }

  // What replaces a job's records that Kafka refuses for good: a small final ERROR saying why, and the job as a
  // dead letter, so the run gets a verdict and the job does not loop.
  std::vector<kafka::OutgoingRecord> unwritableResult(const Work& w, size_t refused) {
    const std::string why = "the job's result could not be written to Kafka and will not be tried again (" +
                            std::to_string(refused) + " record(s) refused for good: too large or not authorised; "
                            "see worker " + settings.worker_id + "'s log)";
    v1::Result r;
    r.set_schema_version(1);
    r.set_run_id(w.job.run_id());
    r.set_job_id(w.job.job_id());
    r.set_attempt(w.job.attempt());
    r.set_name(w.job.name());
    for (const auto& t : w.job.tests()) r.add_tests(t);
    r.set_worker_id(settings.worker_id);
    r.set_verdict(v1::ERROR);
    r.set_stage("result");
    r.set_error(why);
    r.set_final(true);
    r.set_finished_at_ms(nowMillis());
    v1::TestCase* c = r.add_cases();
    c->set_name(w.job.name());
    c->set_classname(w.job.name());
    c->set_status(v1::ERROR);
    c->set_message(why);
    v1::DeadLetter dl = makeDeadLetter(why, w.tp, w.offset, w.job.run_id() + "/" + w.job.job_id(),
                                       w.job.SerializeAsString(), "worker " + settings.worker_id);
    return {{settings.topics.results, r.run_id(), r.SerializeAsString()},
            {settings.topics.dead_letters, dl.key(), dl.SerializeAsString()}};
  }

  void deadLetter(const kafka::Message& m, const std::string& reason) {
    spdlog::error("job record {}[{}]@{} goes to the dead-letter topic: {}", m.tp.topic, m.tp.partition, m.offset,
                  reason);
    v1::DeadLetter dl = makeDeadLetter(reason, m.tp, m.offset, m.key, m.payload, "worker " + settings.worker_id);
    if (commitRecords({{settings.topics.dead_letters, m.key, dl.SerializeAsString()}}, m.tp, m.offset, nullptr,
                      consumer->memberId()) != Committed::kYes) {
      buffer(m, true);  // not recorded: try again later
    }
  }

  void buffer(const kafka::Message& m, bool at_front) {
    auto& q = buffered[m.tp];
    Buffered b{m, 0};
    if (settings.topics.isRetry(m.tp.topic)) {
      v1::Job peek;
      if (peek.ParseFromString(m.payload)) b.due_ms = clampedDue(peek.not_before_ms(), m);
    }
    if (at_front) {
      q.push_front(std::move(b));
    } else {
      q.push_back(std::move(b));
    }
    buffered_bytes += m.payload.size();
    ++buffered_count;
  }

  // A retry record's due time comes from the record itself, but never later than its own topic's delay after it
  // was produced: that is the latest a worker would have set it. So records on a retry topic are due in the order
  // they sit in, and a forged or corrupt one (due in the year 3000) waits one delay, not forever.
  int64_t clampedDue(int64_t not_before_ms, const kafka::Message& m) {
    const auto& retries = settings.topics.retries;
    const size_t step = static_cast<size_t>(std::find(retries.begin(), retries.end(), m.tp.topic) - retries.begin());
    const auto longest = std::max_element(settings.retry.delays.begin(), settings.retry.delays.end());
    const int64_t delay = step < settings.retry.delays.size() ? settings.retry.delays[step].count()
                          : longest != settings.retry.delays.end() ? longest->count()
                                                                   : 0;
    const int64_t latest = (m.timestamp_ms >= 0 ? m.timestamp_ms : nowMillis()) + delay;
    if (not_before_ms <= latest) return not_before_ms;
    spdlog::warn("retry record {}[{}]@{} is due at {} ms, later than its topic's delay allows; it runs at {}",
                 m.tp.topic, m.tp.partition, m.offset, not_before_ms, latest);
    return latest;
  }

  // A retry record that is not due yet but has due records behind it on its partition is moved out of their way:
  // written again at the partition's end, its offset committed in the same transaction. Nothing waits behind a
  // record that is not due, and a waiting record never holds a slot.
  void deferBlockingRetries(int64_t now) {
    for (auto& [tp, q] : buffered) {
      if (q.size() < 2 || busy.count(tp) || q.front().due_ms <= now || !settings.topics.isRetry(tp.topic)) continue;
      const bool due_behind =
          std::any_of(q.begin() + 1, q.end(), [&](const Buffered& b) { return b.due_ms <= now; });
      if (!due_behind) continue;
      const kafka::Message& m = q.front().message;
      if (commitRecords({{tp.topic, m.key, m.payload}}, tp, m.offset, nullptr, consumer->memberId()) !=
          Committed::kYes) {
        continue;  // tried again on the next round
      }
      spdlog::info("retry record {}[{}]@{} is not due for {} s; moved behind the due ones", tp.topic, tp.partition,
                   m.offset, (q.front().due_ms - now) / 1000);
      buffered_bytes -= m.payload.size();
      --buffered_count;
      q.pop_front();
    }
  }

  void dropBuffered(const TopicPartition& tp) {
    auto it = buffered.find(tp);
    if (it == buffered.end()) return;
    for (const auto& b : it->second) {
      buffered_bytes -= b.message.payload.size();
      --buffered_count;
    }
    buffered.erase(it);
  }

  // Starts buffered jobs while slots are free, taking partitions in turn; a retry record waits until it is due
  // (and holds back only its own partition, whose later records are due later still).
  void dispatch() {
    bool started = true;
    const int64_t now = nowMillis();
    deferBlockingRetries(now);
    while (started && running < settings.slots) {
      started = false;
      for (auto& [tp, q] : buffered) {
        if (running >= settings.slots) break;
        if (q.empty() || busy.count(tp) || q.front().due_ms > now) continue;
        kafka::Message m = std::move(q.front().message);
        q.pop_front();
        buffered_bytes -= m.payload.size();
        --buffered_count;
        start(std::move(m));
        started = true;
      }
    }
  }

  void handleMessage(kafka::Message m) {
    if (!assigned.count(m.tp)) return;  // fetched before a revoke: its next owner reads it
    buffer(m, false);
  }

  // Decodes a job and hands it to a slot; records that are not jobs go to the dead-letter topic.
  void start(kafka::Message m) {
    if (m.payload.size() > settings.max_job_bytes) {
      return deadLetter(m, "job record of " + std::to_string(m.payload.size()) + " bytes is over the limit of " +
                               std::to_string(settings.max_job_bytes));
    }
    v1::Job job;
    if (!job.ParseFromString(m.payload)) return deadLetter(m, "job record does not decode as testfleet.v1.Job");
    if (job.schema_version() != 1) {
      return deadLetter(m, "job record has schema version " + std::to_string(job.schema_version()) +
                               "; this worker reads version 1");
    }
    if (job.run_id().empty() || job.job_id().empty()) return deadLetter(m, "job record has no run_id or job_id");
    spdlog::debug("job {} from {}[{}]@{}", job.name(), m.tp.topic, m.tp.partition, m.offset);
    InFlight f{m, next_token++, std::make_shared<std::atomic<bool>>(false)};
    busy[m.tp] = f;
    ++running;
    {
      std::lock_guard lock(mu);
      queue.push_back({std::move(job), m.tp, m.offset, f.token, f.cancel, consumer->memberId()});
    }
    cv.notify_one();
  }

  void handleDone() {
    std::deque<Done> finished;
    {
      std::lock_guard lock(mu);
      finished.swap(done);
    }
    for (const auto& d : finished) {
      --running;
      auto it = busy.find(d.tp);
      if (it == busy.end() || it->second.token != d.token) continue;  // revoked meanwhile
      kafka::Message m = std::move(it->second.message);
      busy.erase(it);
      // Not committed (and not cancelled for a revoke): run it again, before the partition's later jobs.
      if (!d.committed && assigned.count(d.tp) && !stopping) buffer(m, true);
    }
  }

  // Back-pressure: pauses every partition while the buffers are over their bounds (or while draining), and
  // resumes them once the buffers are down to half.
  void updatePauses(bool draining) {
    // Retry records that are not due count apart: they hold no slot and must not stop the jobs topic; a retry
    // partition with enough of them waiting is paused on its own.
    constexpr size_t kWaitingPerPartition = 16;
    const int64_t now = nowMillis();
    size_t waiting_bytes = 0, waiting_count = 0;
    std::set<TopicPartition> want;
    for (const auto& [tp, q] : buffered) {
      size_t waiting_here = 0;
      for (const auto& b : q) {
        if (b.due_ms <= now) continue;
        ++waiting_here;
        waiting_bytes += b.message.payload.size();
      }
      waiting_count += waiting_here;
      if (waiting_here >= kWaitingPerPartition && assigned.count(tp)) want.insert(tp);
    }
    const size_t ready_bytes = buffered_bytes - waiting_bytes, ready_count = buffered_count - waiting_count;
    const size_t max_count = static_cast<size_t>(settings.slots) * 64;
    if (!backpressure && (ready_bytes > settings.max_buffered_bytes || ready_count > max_count)) {
      backpressure = true;
    } else if (backpressure && ready_bytes <= settings.max_buffered_bytes / 2 && ready_count <= max_count / 2) {
      backpressure = false;
    }
    if (draining || backpressure) want = assigned;
    std::vector<TopicPartition> to_pause, to_resume;
    for (const auto& tp : want) {
      if (!paused.count(tp)) to_pause.push_back(tp);
    }
    for (const auto& tp : paused) {
      if (!want.count(tp)) to_resume.push_back(tp);
    }
    if (!to_pause.empty()) consumer->pause(to_pause);
    if (!to_resume.empty()) consumer->resume(to_resume);
    paused = std::move(want);
  }

  void cancelAll() {
    for (auto& [tp, f] : busy) f.cancel->store(true);
  }
};

JobLoop::JobLoop(JobLoopSettings settings, JobExecutor& runner)
    : state_(std::make_unique<State>(std::move(settings), runner)) {}

JobLoop::~JobLoop() = default;

int JobLoop::run(const StopSignals& stop) {
  State& s = *state_;
  kafka::ensureTopics(s.settings.kafka, s.settings.topics.specs());
  s.producer = std::make_unique<kafka::TransactionalProducer>(s.settings.kafka, "testfleet-worker-" + s.settings.worker_id);
  kafka::GroupConsumerSettings cs;
  cs.client = s.settings.kafka;
  cs.group_id = s.settings.group_id;
  cs.topics = {s.settings.topics.jobs};
  cs.topics.insert(cs.topics.end(), s.settings.topics.retries.begin(), s.settings.topics.retries.end());
  s.consumer = std::make_unique<kafka::GroupConsumer>(cs, &s);
  for (int i = 0; i < s.settings.slots; ++i) s.slots.emplace_back([&s] { s.slotMain(); });
  spdlog::info("worker {} ready: {} slot(s), group {}, topic {}", s.settings.worker_id, s.settings.slots,
               s.settings.group_id, s.settings.topics.jobs);

  bool draining = false;
  Clock::time_point drain_deadline;
  int rc = 0;
  for (;;) {
    if (stop.drain && !draining) {
      draining = true;
      drain_deadline = Clock::now() + s.settings.grace;
      spdlog::info("stopping: no new jobs; {} running job(s) get {} s to finish", s.running,
                   std::chrono::duration_cast<std::chrono::seconds>(s.settings.grace).count());
    }
    if (draining && (stop.abandon || Clock::now() >= drain_deadline) && s.running > 0) {
      spdlog::warn("handing back {} running job(s) uncommitted", s.running);
      s.cancelAll();
    }
    if (s.fatal) {
      s.cancelAll();
      draining = true;
      rc = 1;
    }
    s.stopping = draining;
    s.handleDone();
    if (draining && s.running == 0) break;
    if (!draining) s.dispatch();
    s.updatePauses(draining);
    // Short polls while jobs run, so a finished slot gets its next job quickly.
    auto wait = s.running > 0 ? std::chrono::milliseconds(5) : std::chrono::milliseconds(100);
    if (auto m = s.consumer->poll(wait)) s.handleMessage(std::move(*m));
  }
  {
    std::lock_guard lock(s.mu);
    s.shutting_down = true;
  }
  s.cv.notify_all();
  for (auto& t : s.slots) t.join();
  s.consumer->close();
  spdlog::info("worker {} left the group", s.settings.worker_id);
  return rc;
}

}  // namespace testfleet::worker
