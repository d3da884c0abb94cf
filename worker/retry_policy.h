// What happens after an attempt ended in ERROR (the infrastructure's fault): try again here after a short backoff,
// hand the job to a retry topic to run again later (on whichever worker), or give up with a final ERROR.
// Test failures (FAILED, TIMEOUT, OOM, CRASHED) are never retried. Pure, so the schedule is unit-tested.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>
#include <vector>

namespace testfleet::worker {

struct RetrySettings {
  uint32_t max_attempts = 5;                        // all attempts together, in place and through retry topics
  uint32_t in_place = 1;                            // extra tries on the same worker per delivery
  std::chrono::milliseconds in_place_backoff{500};  // doubled each time, with ±50% jitter
  std::vector<std::chrono::milliseconds> delays{std::chrono::seconds(10), std::chrono::seconds(60),
                                                std::chrono::minutes(5)};  // one per retry topic
};

struct RetryDecision {
  enum class Kind { kInPlace, kLater, kGiveUp };
  Kind kind = Kind::kGiveUp;
  std::chrono::milliseconds wait{0};  // kInPlace: backoff before the next try; kLater: delay of the topic
  uint32_t topic_index = 0;           // kLater: which retry topic
};

// attempt: the attempt that just failed (1-based); in_place_done: extra tries already made in this delivery;
// retry_hops: retry topics the job has been through.
RetryDecision decideRetry(const RetrySettings& settings, uint32_t attempt, uint32_t in_place_done, uint32_t retry_hops,
                          std::mt19937& rng);

}  // namespace testfleet::worker
