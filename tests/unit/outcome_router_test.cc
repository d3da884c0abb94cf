#include <doctest/doctest.h>

#include "fakes/scripted_job_executor.h"
#include "worker/outcome_router.h"

using namespace testfleet;
using namespace testfleet::worker;
using namespace std::chrono_literals;
using Kind = Route::Kind;

namespace {

OutcomeRouter router(uint32_t max_attempts = 3, uint32_t in_place = 1) {
  RouterSettings s;
  s.topics = kafka::Topics::withPrefix("t");
  s.retry.max_attempts = max_attempts;
  s.retry.in_place = in_place;
  s.max_reruns = 2;
  s.worker_id = "w9";
  return OutcomeRouter(s);
}

v1::Job job(uint32_t attempt = 1, uint32_t reruns = 0) {
  v1::Job j;
  j.set_schema_version(1);
  j.set_run_id("r");
  j.set_job_id("j");
  j.set_attempt(attempt);
  j.set_reruns(reruns);
  return j;
}

const JobOrigin kOrigin{{"t.jobs", 3}, 42};

}  // namespace

TEST_CASE("outcome router: a passed job is one final result") {
  std::mt19937 rng(1);
  Route r = router().route(job(), testing::resultOf(job(), v1::PASSED), 0, kOrigin, false, rng, 1000);
  CHECK(r.kind == Kind::kFinished);
  REQUIRE(r.records.size() == 1);
  CHECK(r.records[0].topic == "t.results");
  CHECK(r.records[0].key == "r");
}

TEST_CASE("outcome router: ERROR in place first, then a retry topic, then a final ERROR and a dead letter") {
  std::mt19937 rng(1);
  const OutcomeRouter rt = router();
  Route r = rt.route(job(1), testing::resultOf(job(1), v1::ERROR, "boom"), 0, kOrigin, false, rng, 1000);
  CHECK(r.kind == Kind::kInPlace);
  CHECK(r.next.attempt() == 2);
  REQUIRE(r.records.size() == 1);
  v1::Result first;
  REQUIRE(first.ParseFromString(r.records[0].payload));
  CHECK_FALSE(first.final());

  r = rt.route(job(2), testing::resultOf(job(2), v1::ERROR, "boom"), 1, kOrigin, false, rng, 1000);
  CHECK(r.kind == Kind::kLater);
  REQUIRE(r.records.size() == 2);
  CHECK(r.records[1].topic == "t.retry-1");
  v1::Job retry;
  REQUIRE(retry.ParseFromString(r.records[1].payload));
  CHECK(retry.not_before_ms() == 1000 + 10'000);
  CHECK(retry.origin_topic() == "t.jobs");

  r = rt.route(job(3), testing::resultOf(job(3), v1::ERROR, "boom"), 0, kOrigin, false, rng, 1000);
  CHECK(r.kind == Kind::kGiveUp);
  REQUIRE(r.records.size() == 2);
  v1::Result last;
  REQUIRE(last.ParseFromString(r.records[0].payload));
  CHECK(last.final());
  CHECK(last.error().rfind("gave up after 3 attempts", 0) == 0);
  CHECK(r.records[1].topic == "t.dlq");
  v1::DeadLetter dl;
  REQUIRE(dl.ParseFromString(r.records[1].payload));
  CHECK(dl.source_topic() == "t.jobs");
  CHECK(dl.source_offset() == 42);
  CHECK(dl.service() == "worker w9");
}

TEST_CASE("outcome router: a cancelled job is never retried or rerun") {
  std::mt19937 rng(1);
  const OutcomeRouter rt = router();
  CHECK(rt.route(job(), testing::resultOf(job(), v1::ERROR), 0, kOrigin, true, rng, 0).kind == Kind::kFinished);
  Route r = rt.route(job(1, 5), testing::resultOf(job(1, 5), v1::FAILED), 0, kOrigin, true, rng, 0);
  CHECK(r.kind == Kind::kFinished);
  CHECK(r.records.size() == 1);
}

TEST_CASE("outcome router: a job of a cancelled run is one final CANCELLED result, started or not") {
  const OutcomeRouter rt = router();
  Route queued = rt.cancelledRun(job(1, 5), nullptr, 7000);
  CHECK(queued.kind == Kind::kFinished);
  REQUIRE(queued.records.size() == 1);
  CHECK(queued.records[0].topic == "t.results");
  v1::Result q;
  REQUIRE(q.ParseFromString(queued.records[0].payload));
  CHECK(q.verdict() == v1::CANCELLED);
  CHECK(q.final());
  CHECK(q.worker_id() == "w9");
  CHECK(q.finished_at_ms() == 7000);
  REQUIRE(q.cases_size() == 1);
  CHECK(q.cases(0).status() == v1::CANCELLED);

  v1::Result cut = testing::resultOf(job(), v1::ERROR, "cancelled");
  cut.set_stdout_tail("half way");
  Route ran = rt.cancelledRun(job(), &cut, 9000);
  CHECK(ran.kind == Kind::kFinished);
  REQUIRE(ran.records.size() == 1);  // no retry, no dead letter
  v1::Result r;
  REQUIRE(r.ParseFromString(ran.records[0].payload));
  CHECK(r.verdict() == v1::CANCELLED);
  CHECK(r.final());
  CHECK(r.stdout_tail() == "half way");
  CHECK(r.error() == "its run was cancelled while it ran");
}

TEST_CASE("outcome router: reruns asked for by the job are bounded by the worker's maximum") {
  std::mt19937 rng(1);
  Route r = router().route(job(1, 1000), testing::resultOf(job(1, 1000), v1::FAILED), 0, kOrigin, false, rng, 0);
  CHECK(r.kind == Kind::kRerun);
  REQUIRE(r.records.size() == 2);
  v1::Job rerun;
  REQUIRE(rerun.ParseFromString(r.records[1].payload));
  CHECK(rerun.reruns() == 1);  // max_reruns 2, one used now
  CHECK(r.records[1].topic == "t.jobs");
}

TEST_CASE("outcome router: records refused for good are replaced by a final ERROR and a dead letter") {
  const auto records = router().unwritable(job(), kOrigin, 3, 5);
  REQUIRE(records.size() == 2);
  v1::Result r;
  REQUIRE(r.ParseFromString(records[0].payload));
  CHECK(r.verdict() == v1::ERROR);
  CHECK(r.final());
  CHECK(r.error().find("3 record(s) refused for good") != std::string::npos);
  CHECK(records[1].topic == "t.dlq");
}
