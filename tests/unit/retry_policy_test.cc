#include <doctest/doctest.h>

#include "worker/retry_policy.h"

using namespace testfleet::worker;
using Kind = RetryDecision::Kind;
using namespace std::chrono_literals;

TEST_CASE("ERROR is retried in place, then through the retry topics, then given up") {
  RetrySettings s;
  s.max_attempts = 5;
  s.in_place = 1;
  s.in_place_backoff = 100ms;
  s.delays = {10s, 60s, 300s};
  std::mt19937 rng(1);

  RetryDecision d = decideRetry(s, 1, 0, 0, rng);
  CHECK(d.kind == Kind::kInPlace);
  CHECK(d.wait >= 50ms);
  CHECK(d.wait <= 150ms);  // 100 ms ± 50%

  d = decideRetry(s, 2, 1, 0, rng);
  CHECK(d.kind == Kind::kLater);
  CHECK(d.topic_index == 0);
  CHECK(d.wait == 10s);

  d = decideRetry(s, 3, 1, 1, rng);  // came back from retry-1, in-place try used in this delivery
  CHECK(d.kind == Kind::kLater);
  CHECK(d.topic_index == 1);

  d = decideRetry(s, 4, 1, 7, rng);  // many hops: stays on the last topic
  CHECK(d.kind == Kind::kLater);
  CHECK(d.topic_index == 2);

  CHECK(decideRetry(s, 5, 0, 0, rng).kind == Kind::kGiveUp);
}

TEST_CASE("in-place backoff doubles with each try") {
  RetrySettings s;
  s.in_place = 3;
  s.in_place_backoff = 100ms;
  std::mt19937 rng(7);
  for (int i = 0; i < 50; ++i) {
    RetryDecision third = decideRetry(s, 3, 2, 0, rng);
    CHECK(third.kind == Kind::kInPlace);
    CHECK(third.wait >= 200ms);  // 400 ms ± 50%
    CHECK(third.wait <= 600ms);
  }
}

TEST_CASE("one attempt allowed means no retry") {
  RetrySettings s;
  s.max_attempts = 1;
  std::mt19937 rng(3);
  CHECK(decideRetry(s, 1, 0, 0, rng).kind == Kind::kGiveUp);
}
