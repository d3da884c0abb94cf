#include "worker/retry_policy.h"

#include <algorithm>

namespace testfleet::worker {

RetryDecision decideRetry(const RetrySettings& s, uint32_t attempt, uint32_t in_place_done, uint32_t retry_hops,
                          std::mt19937& rng) {
  RetryDecision d;
  if (attempt >= s.max_attempts) return d;  // kGiveUp
  if (in_place_done < s.in_place) {
    d.kind = RetryDecision::Kind::kInPlace;
    const double base = static_cast<double>(s.in_place_backoff.count()) * (1u << std::min(in_place_done, 10u));
    std::uniform_real_distribution<double> jitter(0.5, 1.5);
    d.wait = std::chrono::milliseconds(static_cast<int64_t>(base * jitter(rng)));
    return d;
  }
  if (s.delays.empty()) return d;
  d.kind = RetryDecision::Kind::kLater;
  d.topic_index = std::min<uint32_t>(retry_hops, static_cast<uint32_t>(s.delays.size()) - 1);
  d.wait = s.delays[d.topic_index];
  return d;
}

}  // namespace testfleet::worker
