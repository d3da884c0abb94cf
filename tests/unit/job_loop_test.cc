// The worker's loop driven through its seams, without a broker: a fake consumer under the real buffered job
// source, a fake result sink and a scripted executor. The real-broker behaviour is tested in tests/integration
// and tests/e2e.
#include <doctest/doctest.h>

#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "common/clock.h"
#include "eventually.h"
#include "fakes/fake_record_consumer.h"
#include "fakes/fake_result_sink.h"
#include "fakes/scripted_job_executor.h"
#include "worker/job_loop.h"

using namespace testfleet;
using namespace testfleet::worker;
using namespace std::chrono_literals;
using testing::eventually;
using testing::resultOf;

namespace {

std::string jobRecord(const std::string& job_id, uint32_t reruns = 0, std::string name = "",
                      const std::string& run_id = "run-1") {
  v1::Job j;
  j.set_schema_version(1);
  j.set_run_id(run_id);
  j.set_job_id(job_id);
  j.set_name(name.empty() ? job_id : name);
  j.set_attempt(1);
  j.set_reruns(reruns);
  return j.SerializeAsString();
}

// Blocks a job until the test opens the gate or the job is cancelled; says which happened.
struct Gate {
  std::atomic<bool> open{false};
  std::atomic<int> cancelled{0};
  std::atomic<int64_t> held_ms{0};  // how long the last cancelled job was held before its cancel
  v1::Result hold(const v1::Job& job, const std::atomic<bool>& cancel) {
    const auto start = std::chrono::steady_clock::now(), limit = start + 20s;
    while (!open && !cancel && std::chrono::steady_clock::now() < limit) std::this_thread::sleep_for(1ms);
    if (cancel) {
      held_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
      ++cancelled;
      return resultOf(job, v1::ERROR, "cancelled");
    }
    return resultOf(job, v1::PASSED);
  }
};

// One loop over fakes, run on its own thread. Members are destroyed loop first, fakes last.
struct Rig {
  testing::FakeRecordConsumer consumer;
  testing::FakeResultSink sink;
  testing::ScriptedJobExecutor executor;
  JobLoopSettings settings;
  RecentCancels cancels;
  std::optional<BufferedJobSource> source;
  std::optional<JobLoop> loop;
  StopSignals stop;
  JobLoopEvents* events = nullptr;
  std::future<int> rc;

  const kafka::TopicPartition p0{"t.jobs", 0}, p1{"t.jobs", 1};

  Rig() {
    sink.group = &consumer;
    settings.topics = kafka::Topics::withPrefix("t");
    settings.worker_id = "w1";
    settings.slots = 2;
    settings.retry.in_place = 0;
    settings.retry.in_place_backoff = 1ms;
  }
  ~Rig() {
    if (rc.valid()) {
      stop.drain = true;
      stop.abandon = true;
      rc.wait();
    }
  }
  void start() {
    source.emplace(consumer, settings.source());
    loop.emplace(settings, *source, sink, executor, events, &cancels);
    rc = std::async(std::launch::async, [this] { return loop->run(stop); });
  }
  // The loop's exit code once it stopped by itself, or -1 if it still runs after `limit`.
  int exitCode(std::chrono::milliseconds limit = 10s) {
    if (rc.wait_for(limit) != std::future_status::ready) return -1;
    return rc.get();
  }
  int drain() {
    stop.drain = true;
    return exitCode();
  }
  bool committedCount(size_t n) {
    return eventually(10s, [&] { return sink.committed().size() >= n; });
  }
};

// What the loop told its events, as words ("delivered j1", "routed later", "dead letter not_a_job").
struct RecordedEvents : JobLoopEvents {
  std::mutex mu;  // guards said
  std::vector<std::string> said;
  void delivered(const v1::Job& job, int64_t) override { add("delivered " + job.job_id()); }
  void routed(Route::Kind kind) override {
    static const char* names[] = {"finished", "rerun", "in_place", "later", "give_up"};
    add(std::string("routed ") + names[static_cast<int>(kind)]);
  }
  void deadLettered(DeadLetterReason reason) override {
    static const char* names[] = {"gave_up", "not_a_job", "unwritable"};
    add(std::string("dead letter ") + names[static_cast<int>(reason)]);
  }
  void add(std::string what) {
    std::lock_guard lock(mu);
    said.push_back(std::move(what));
  }
  std::multiset<std::string> all() {
    std::lock_guard lock(mu);
    return {said.begin(), said.end()};
  }
};

std::vector<std::string> topicsOf(const std::vector<kafka::OutgoingRecord>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r.topic);
  return out;
}

}  // namespace

TEST_CASE("job loop: a job's result and its offset are committed in one transaction") {
  Rig rig;
  rig.start();
  rig.consumer.assign({rig.p0});
  rig.consumer.record(rig.p0, 7, jobRecord("j1"));
  REQUIRE(rig.committedCount(1));
  const auto c = rig.sink.committed().at(0);
  CHECK(c.tp == rig.p0);
  CHECK(c.offset == 7);
  REQUIRE(topicsOf(c.records) == std::vector<std::string>{"t.results"});
  v1::Result r;
  REQUIRE(r.ParseFromString(c.records[0].payload));
  CHECK(r.job_id() == "j1");
  CHECK(r.verdict() == v1::PASSED);
  CHECK(r.final());
  CHECK(rig.drain() == 0);
  CHECK(rig.consumer.closed());
}

TEST_CASE("job loop: ERROR goes to a retry topic and FAILED with reruns back to the jobs topic, with the result") {
  Rig rig;
  rig.executor.behave = [](const v1::Job& job, const std::atomic<bool>&) {
    return job.job_id() == "broken" ? resultOf(job, v1::ERROR, "sandbox set-up failed") : resultOf(job, v1::FAILED);
  };
  rig.start();
  rig.consumer.assign({rig.p0, rig.p1});
  rig.consumer.record(rig.p0, 0, jobRecord("broken"));
  rig.consumer.record(rig.p1, 0, jobRecord("flaky", 1));
  REQUIRE(rig.committedCount(2));
  for (const auto& c : rig.sink.committed()) {
    v1::Result result;
    REQUIRE(result.ParseFromString(c.records.at(0).payload));
    CHECK_FALSE(result.final());
    v1::Job next;
    REQUIRE(c.records.size() == 2);
    REQUIRE(next.ParseFromString(c.records[1].payload));
    CHECK(next.attempt() == 2);
    if (c.tp == rig.p0) {
      CHECK(c.records[1].topic == "t.retry-1");
      CHECK(next.retry_hops() == 1);
      CHECK(next.origin_topic() == "t.jobs");
      CHECK(next.retry_reason() == "sandbox set-up failed");
      CHECK(next.not_before_ms() > 0);
    } else {
      CHECK(c.records[1].topic == "t.jobs");
      CHECK(next.reruns() == 0);
    }
  }
  CHECK(rig.drain() == 0);
}

TEST_CASE("job loop: an in-place retry runs the job again here; every attempt goes in the one transaction") {
  Rig rig;
  rig.settings.retry.in_place = 1;
  rig.executor.behave = [](const v1::Job& job, const std::atomic<bool>&) {
    return job.attempt() == 1 ? resultOf(job, v1::ERROR, "workspace fetch failed") : resultOf(job, v1::PASSED);
  };
  rig.start();
  rig.consumer.assign({rig.p0});
  rig.consumer.record(rig.p0, 0, jobRecord("j1"));
  REQUIRE(rig.committedCount(1));
  const auto c = rig.sink.committed().at(0);
  CHECK(topicsOf(c.records) == std::vector<std::string>{"t.results", "t.results"});
  CHECK(rig.executor.runs == 2);
  CHECK(rig.drain() == 0);
}

TEST_CASE("job loop: a record that is not a job is dead-lettered at its own offset") {
  Rig rig;
  rig.start();
  rig.consumer.assign({rig.p0});
  rig.consumer.record(rig.p0, 4, "not a job \xff\xfe");
  REQUIRE(rig.committedCount(1));
  const auto c = rig.sink.committed().at(0);
  CHECK(c.offset == 4);
  REQUIRE(topicsOf(c.records) == std::vector<std::string>{"t.dlq"});
  v1::DeadLetter dl;
  REQUIRE(dl.ParseFromString(c.records[0].payload));
  CHECK(dl.reason().find("does not decode") != std::string::npos);
  CHECK(dl.source_offset() == 4);
  CHECK(rig.executor.runs == 0);
  CHECK(rig.drain() == 0);
}

TEST_CASE("job loop: a revoked partition's running job is cancelled, never committed, and its later records dropped") {
  Rig rig;
  Gate gate;
  rig.executor.behave = [&](const v1::Job& job, const std::atomic<bool>& cancel) { return gate.hold(job, cancel); };
  rig.start();
  rig.consumer.assign({rig.p0, rig.p1});
  rig.consumer.record(rig.p0, 3, jobRecord("revoked"));
  REQUIRE(eventually(10s, [&] { return rig.executor.runs == 1; }));
  rig.consumer.revoke({rig.p0});
  REQUIRE(eventually(10s, [&] { return gate.cancelled == 1; }));
  rig.consumer.record(rig.p0, 4, jobRecord("fetched-after-revoke"));  // its next owner reads it
  gate.open = true;
  rig.consumer.record(rig.p1, 0, jobRecord("other"));
  REQUIRE(rig.committedCount(1));
  const auto committed = rig.sink.committed();
  REQUIRE(committed.size() == 1);
  CHECK(committed[0].tp == rig.p1);
  CHECK(rig.executor.runs == 2);
  CHECK(rig.drain() == 0);
}

// The cancelled run "gone" has its job on p0 at `offset`, the run "kept" its job on p1: both are committed final,
// the first CANCELLED, the second PASSED.
void checkOnlyGoneCancelled(Rig& rig, int64_t offset) {
  for (const auto& c : rig.sink.committed()) {
    v1::Result r;
    REQUIRE(c.records.size() == 1);
    REQUIRE(r.ParseFromString(c.records[0].payload));
    CHECK(r.final());
    CHECK(r.run_id() == (c.tp == rig.p0 ? "gone" : "kept"));
    CHECK(r.verdict() == (c.tp == rig.p0 ? v1::CANCELLED : v1::PASSED));
    if (c.tp == rig.p0) CHECK(c.offset == offset);
  }
}

TEST_CASE("job loop: a queued job of a cancelled run is committed CANCELLED without running; other runs run") {
  Rig rig;
  rig.cancels.add("gone", nowMillis(), nowMillis());
  rig.start();
  rig.consumer.assign({rig.p0, rig.p1});
  rig.consumer.record(rig.p0, 5, jobRecord("j1", 2, "", "gone"));
  rig.consumer.record(rig.p1, 8, jobRecord("j2", 0, "", "kept"));
  REQUIRE(rig.committedCount(2));
  CHECK(rig.executor.runs == 1);
  checkOnlyGoneCancelled(rig, 5);
  CHECK(rig.drain() == 0);
}

TEST_CASE("job loop: a running job of a run cancelled now is stopped and committed CANCELLED, not retried") {
  Rig rig;
  rig.settings.retry.in_place = 2;  // an ERROR would run again here: a cancelled run's job must not
  Gate gate;
  rig.executor.behave = [&](const v1::Job& job, const std::atomic<bool>& cancel) {
    return job.run_id() == "gone" ? gate.hold(job, cancel) : resultOf(job, v1::PASSED);
  };
  rig.start();
  rig.consumer.assign({rig.p0, rig.p1});
  rig.consumer.record(rig.p0, 3, jobRecord("slow", 0, "", "gone"));
  REQUIRE(eventually(10s, [&] { return rig.executor.runs == 1; }));
  rig.cancels.add("gone", nowMillis(), nowMillis());
  REQUIRE(eventually(10s, [&] { return gate.cancelled == 1; }));
  rig.consumer.record(rig.p1, 0, jobRecord("other", 0, "", "kept"));
  REQUIRE(rig.committedCount(2));
  CHECK(rig.executor.runs == 2);
  checkOnlyGoneCancelled(rig, 3);
  CHECK(rig.drain() == 0);
}

TEST_CASE("job loop: a job whose commit failed runs again before its partition's later jobs") {
  Rig rig;
  int failures = 1;
  rig.sink.answer = [&](const testing::FakeResultSink::Commit& c) {
    if (c.offset == 0 && failures-- > 0) return CommitOutcome::kNotCommitted;
    return CommitOutcome::kCommitted;
  };
  rig.start();
  rig.consumer.assign({rig.p0});
  rig.consumer.record(rig.p0, 0, jobRecord("first"));
  rig.consumer.record(rig.p0, 1, jobRecord("second"));
  REQUIRE(rig.committedCount(2));
  const auto committed = rig.sink.committed();
  CHECK(committed[0].offset == 0);
  CHECK(committed[1].offset == 1);
  CHECK(rig.executor.runs == 3);
  CHECK(rig.drain() == 0);
}

TEST_CASE("job loop: records refused for good become a final ERROR and a dead letter") {
  Rig rig;
  rig.sink.answer = [](const testing::FakeResultSink::Commit& c) {
    return c.records.size() == 1 ? CommitOutcome::kRefused : CommitOutcome::kCommitted;
  };
  rig.start();
  rig.consumer.assign({rig.p0});
  rig.consumer.record(rig.p0, 0, jobRecord("huge"));
  REQUIRE(rig.committedCount(1));
  const auto c = rig.sink.committed().at(0);
  REQUIRE(topicsOf(c.records) == std::vector<std::string>{"t.results", "t.dlq"});
  v1::Result r;
  REQUIRE(r.ParseFromString(c.records[0].payload));
  CHECK(r.verdict() == v1::ERROR);
  CHECK(r.final());
  CHECK(r.error().find("refused for good") != std::string::npos);
  CHECK(rig.drain() == 0);
}

TEST_CASE("job loop: back-pressure pauses every partition past the buffer bound and resumes at half") {
  Rig rig;
  Gate gate;
  rig.settings.slots = 1;
  rig.settings.max_buffered_bytes = 4096;
  rig.executor.behave = [&](const v1::Job& job, const std::atomic<bool>& cancel) { return gate.hold(job, cancel); };
  rig.start();
  rig.consumer.assign({rig.p0, rig.p1});
  for (int i = 0; i < 8; ++i)
    rig.consumer.record(rig.p0, i, jobRecord("j" + std::to_string(i), 0, std::string(1000, 'x')));
  REQUIRE(eventually(10s, [&] { return rig.consumer.played() && rig.executor.runs == 1; }));
  // One job runs, seven (~7 KB) wait: over 4 KB, so both partitions stop fetching.
  CHECK(eventually(10s, [&] { return rig.consumer.paused() == std::set{rig.p0, rig.p1}; }));
  gate.open = true;
  REQUIRE(rig.committedCount(8));
  CHECK(rig.consumer.paused().empty());
  CHECK(rig.consumer.resumeCalls() >= 1);
  CHECK(rig.drain() == 0);
}

TEST_CASE("job loop: on drain, running jobs get the grace and are then handed back uncommitted") {
  Rig rig;
  Gate gate;
  rig.settings.grace = 300ms;
  rig.executor.behave = [&](const v1::Job& job, const std::atomic<bool>& cancel) { return gate.hold(job, cancel); };
  rig.start();
  rig.consumer.assign({rig.p0});
  rig.consumer.record(rig.p0, 0, jobRecord("slow"));
  REQUIRE(eventually(10s, [&] { return rig.executor.runs == 1; }));
  CHECK(rig.drain() == 0);
  CHECK(gate.cancelled == 1);
  CHECK(gate.held_ms >= 300);  // not cancelled before the grace was over
  CHECK(rig.sink.committed().empty());
  CHECK(rig.consumer.paused() == std::set{rig.p0});  // draining: nothing more is fetched
}

TEST_CASE("job loop: a second stop signal hands running jobs back at once, without waiting for the grace") {
  Rig rig;
  Gate gate;
  rig.settings.grace = 30s;
  rig.executor.behave = [&](const v1::Job& job, const std::atomic<bool>& cancel) { return gate.hold(job, cancel); };
  rig.start();
  rig.consumer.assign({rig.p0});
  rig.consumer.record(rig.p0, 0, jobRecord("slow"));
  REQUIRE(eventually(10s, [&] { return rig.executor.runs == 1; }));
  rig.stop.drain = true;
  rig.stop.abandon = true;
  CHECK(rig.exitCode(5s) == 0);
  CHECK(gate.cancelled == 1);
  CHECK(rig.sink.committed().empty());
}

TEST_CASE("job loop: a job is not committed once the group dropped the worker while it ran; it runs again") {
  Rig rig;
  Gate gate;
  rig.executor.behave = [&](const v1::Job& job, const std::atomic<bool>& cancel) { return gate.hold(job, cancel); };
  rig.start();
  rig.consumer.assign({rig.p0});
  rig.consumer.record(rig.p0, 0, jobRecord("long"));
  REQUIRE(eventually(10s, [&] { return rig.executor.runs == 1; }));
  rig.consumer.setMemberId("member-2");  // the group dropped member-1 (a session timeout) and it joined again
  gate.open = true;
  REQUIRE(rig.committedCount(1));
  const auto asked = rig.sink.asked();
  REQUIRE(asked.size() == 2);
  CHECK(asked[0].outcome == CommitOutcome::kNotCommitted);  // the run that started under member-1
  CHECK(asked[1].outcome == CommitOutcome::kCommitted);
  CHECK(rig.executor.runs == 2);
  CHECK(rig.drain() == 0);
}

TEST_CASE("job loop: a fatal sink error stops the worker; running jobs are handed back and the slots joined") {
  Rig rig;
  Gate gate;
  // Only the quick job's commit meets the fatal error; the slow job, cancelled by it, must not commit at all.
  rig.sink.answer = [&](const testing::FakeResultSink::Commit& c) {
    return c.tp == rig.p0 ? CommitOutcome::kFatal : CommitOutcome::kCommitted;
  };
  rig.executor.behave = [&](const v1::Job& job, const std::atomic<bool>& cancel) {
    return job.job_id() == "quick" ? resultOf(job, v1::PASSED) : gate.hold(job, cancel);
  };
  rig.start();
  rig.consumer.assign({rig.p0, rig.p1});
  rig.consumer.record(rig.p1, 0, jobRecord("slow"));
  REQUIRE(eventually(10s, [&] { return rig.executor.runs == 1; }));
  rig.consumer.record(rig.p0, 0, jobRecord("quick"));
  CHECK(rig.exitCode() == 1);  // without any stop signal
  CHECK(gate.cancelled == 1);
  CHECK(rig.sink.committed().empty());
  CHECK(rig.consumer.closed());
}

TEST_CASE("job loop: a Kafka error thrown by the consumer stops the worker cleanly") {
  Rig rig;
  Gate gate;
  rig.executor.behave = [&](const v1::Job& job, const std::atomic<bool>& cancel) { return gate.hold(job, cancel); };
  rig.start();
  rig.consumer.assign({rig.p0});
  rig.consumer.record(rig.p0, 0, jobRecord("running"));
  REQUIRE(eventually(10s, [&] { return rig.executor.runs == 1; }));
  rig.consumer.play(kafka::Error("the group coordinator fenced this member", kafka::Error::Kind::kFatal));
  CHECK(rig.exitCode() == 1);
  CHECK(gate.cancelled == 1);
  CHECK(rig.sink.committed().empty());
}

TEST_CASE("job source: a retry record not due yet waits and is moved behind the due records of its partition") {
  testing::FakeRecordConsumer consumer;
  SourceSettings settings;
  settings.topics = kafka::Topics::withPrefix("t");
  settings.retry_delays = {10s, 60s, 300s};
  int64_t now = 1'000'000;
  BufferedJobSource source(consumer, settings, [&] { return now; });
  const kafka::TopicPartition retry{"t.retry-1", 0};
  auto retryRecord = [&](const std::string& id, int64_t due) {
    v1::Job j;
    j.set_schema_version(1);
    j.set_run_id("r");
    j.set_job_id(id);
    j.set_not_before_ms(due);
    return j.SerializeAsString();
  };
  consumer.assign({retry});
  consumer.record(retry, 0, retryRecord("later", now + 5'000), now);
  consumer.record(retry, 1, retryRecord("due", now - 1), now - 10'000);
  consumer.record(retry, 2, retryRecord("forged", now + 100'000'000), now);
  for (int i = 0; i < 4; ++i) source.poll(1ms);
  REQUIRE(source.buffered() == 3);

  auto moved = source.next();
  REQUIRE(moved);
  CHECK(moved->kind == JobLease::Kind::kMoveToEnd);
  CHECK(moved->record.offset == 0);
  CHECK_FALSE(source.next());  // one lease per partition at a time
  source.finished(retry, moved->token, LeaseEnd::kConsumed);

  auto due = source.next();
  REQUIRE(due);
  CHECK(due->kind == JobLease::Kind::kRun);
  CHECK(due->record.offset == 1);
  source.finished(retry, due->token, LeaseEnd::kHandedBack);  // handed back: it is first again, after a pause
  CHECK_FALSE(source.next());
  now += 1'001;
  due = source.next();
  REQUIRE(due);
  CHECK(due->record.offset == 1);
  source.finished(retry, due->token, LeaseEnd::kConsumed);

  CHECK_FALSE(source.next());  // the forged record waits, but only its topic's delay (10 s), not forever
  now += 9'000;
  auto forged = source.next();
  REQUIRE(forged);
  CHECK(forged->record.offset == 2);
}

TEST_CASE("job source: back-pressure pauses every partition over the bound and resumes only at half") {
  testing::FakeRecordConsumer consumer;
  SourceSettings settings;
  settings.topics = kafka::Topics::withPrefix("t");
  settings.max_ready_count = 4;
  BufferedJobSource source(consumer, settings);
  const kafka::TopicPartition p0{"t.jobs", 0}, p1{"t.jobs", 1};
  consumer.assign({p0, p1});
  for (int i = 0; i < 5; ++i) consumer.record(p0, i, jobRecord("j" + std::to_string(i)));
  for (int i = 0; i < 7; ++i) source.poll(1ms);  // the assignment and five records, then one more round
  REQUIRE(source.buffered() == 5);
  CHECK(consumer.paused() == std::set{p0, p1});  // 5 ready > 4: both partitions, not only the full one
  auto take = [&] {
    auto lease = source.next();
    REQUIRE(lease);
    source.finished(p0, lease->token, LeaseEnd::kConsumed);
  };
  take();
  take();  // 3 left: under the bound, still over half of it
  source.poll(1ms);
  CHECK(consumer.paused() == std::set{p0, p1});
  take();  // 2 left: half
  source.poll(1ms);
  CHECK(consumer.paused().empty());
}

TEST_CASE(
    "job loop: a not-due retry record is written again at its partition's end, in one transaction with its offset") {
  Rig rig;
  const kafka::TopicPartition retry{"t.retry-1", 0};
  auto retryRecord = [](const std::string& id, int64_t due) {
    v1::Job j;
    j.set_schema_version(1);
    j.set_run_id("run-1");
    j.set_job_id(id);
    j.set_name(id);
    j.set_attempt(2);
    j.set_not_before_ms(due);
    return j.SerializeAsString();
  };
  const int64_t now = nowMillis();
  const std::string later = retryRecord("later", now + 5'000);
  rig.start();
  rig.consumer.assign({retry});
  rig.consumer.record(retry, 0, later, now);
  rig.consumer.record(retry, 1, retryRecord("due", now - 1), now - 10'000);
  REQUIRE(rig.committedCount(2));
  const auto committed = rig.sink.committed();
  CHECK(committed[0].offset == 0);
  REQUIRE(committed[0].records.size() == 1);
  CHECK(committed[0].records[0].topic == "t.retry-1");
  CHECK(committed[0].records[0].key == "key-0");
  CHECK(committed[0].records[0].payload == later);
  CHECK(committed[1].offset == 1);
  CHECK(topicsOf(committed[1].records) == std::vector<std::string>{"t.results"});
  CHECK(rig.executor.runs == 1);  // the record that is not due did not run
  CHECK(rig.drain() == 0);
}

TEST_CASE("job loop: a retry record whose move is refused for good stays in place and holds back no other partition") {
  Rig rig;
  const kafka::TopicPartition retry{"t.retry-1", 0};
  rig.sink.answer = [](const testing::FakeResultSink::Commit& c) {
    return !c.records.empty() && c.records[0].topic == "t.retry-1" ? CommitOutcome::kRefused
                                                                   : CommitOutcome::kCommitted;
  };
  auto retryRecord = [](const std::string& id, int64_t due) {
    v1::Job j;
    j.set_schema_version(1);
    j.set_run_id("run-1");
    j.set_job_id(id);
    j.set_not_before_ms(due);
    return j.SerializeAsString();
  };
  const int64_t now = nowMillis();
  rig.start();
  rig.consumer.assign({retry, rig.p0});
  rig.consumer.record(retry, 0, retryRecord("later", now + 1'500), now);
  rig.consumer.record(retry, 1, retryRecord("due", now - 1), now - 10'000);
  rig.consumer.record(rig.p0, 0, jobRecord("elsewhere"));
  // The jobs partition runs at once; the retry partition runs its records in order once the first is due.
  REQUIRE(rig.committedCount(3));
  const auto committed = rig.sink.committed();
  CHECK(committed[0].tp == rig.p0);
  CHECK(committed[1].tp == retry);
  CHECK(committed[1].offset == 0);
  CHECK(committed[2].offset == 1);
  size_t moves = 0;
  for (const auto& c : rig.sink.asked()) moves += c.outcome == CommitOutcome::kRefused;
  CHECK(moves == 1);  // refused once, not tried again
  CHECK(rig.drain() == 0);
}

TEST_CASE("job loop: a dead letter refused for good is sent without its payload, and else the offset alone") {
  for (const bool bare_refused_too : {false, true}) {
    CAPTURE(bare_refused_too);
    Rig rig;
    rig.sink.answer = [&](const testing::FakeResultSink::Commit& c) {
      if (c.records.empty() || c.records[0].topic != "t.dlq") return CommitOutcome::kCommitted;
      v1::DeadLetter dl;
      const bool bare = dl.ParseFromString(c.records[0].payload) && dl.payload().empty();
      return bare && !bare_refused_too ? CommitOutcome::kCommitted : CommitOutcome::kRefused;
    };
    rig.start();
    rig.consumer.assign({rig.p0});
    rig.consumer.record(rig.p0, 3, std::string(100, '\xff'));
    rig.consumer.record(rig.p0, 4, jobRecord("after"));
    REQUIRE(rig.committedCount(2));
    const auto committed = rig.sink.committed();
    CHECK(committed[0].offset == 3);
    if (bare_refused_too) {
      CHECK(committed[0].records.empty());
    } else {
      REQUIRE(committed[0].records.size() == 1);
      v1::DeadLetter dl;
      REQUIRE(dl.ParseFromString(committed[0].records[0].payload));
      CHECK(dl.reason().find("payload is not kept") != std::string::npos);
    }
    CHECK(committed[1].offset == 4);
    CHECK(rig.drain() == 0);
  }
}

TEST_CASE("job loop: tells its events of each delivery, each attempt's route and each dead letter") {
  Rig rig;
  RecordedEvents events;
  rig.events = &events;
  rig.settings.retry.in_place = 1;
  rig.settings.retry.max_attempts = 2;
  rig.executor.behave = [](const v1::Job& job, const std::atomic<bool>&) {
    if (job.job_id() == "broken") return resultOf(job, v1::ERROR, "sandbox set-up failed");
    return job.job_id() == "flaky" ? resultOf(job, v1::FAILED) : resultOf(job, v1::PASSED);
  };
  rig.start();
  rig.consumer.assign({rig.p0, rig.p1});
  rig.consumer.record(rig.p0, 0, jobRecord("broken"));  // ERROR, again in place, ERROR: gives up
  rig.consumer.record(rig.p0, 1, "not a job \xff");
  rig.consumer.record(rig.p1, 0, jobRecord("flaky", 1));  // FAILED with a rerun left
  rig.consumer.record(rig.p1, 1, jobRecord("fine"));
  REQUIRE(rig.committedCount(4));
  CHECK(rig.drain() == 0);
  CHECK(events.all() == std::multiset<std::string>{"delivered broken", "routed in_place", "routed give_up",
                                                   "dead letter gave_up", "dead letter not_a_job", "delivered flaky",
                                                   "routed rerun", "delivered fine", "routed finished"});
}
