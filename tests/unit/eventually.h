// Waiting for something in a test without a fixed sleep: polls until it holds or the limit passes.
#pragma once

#include <chrono>
#include <thread>

namespace testfleet::testing {

// Whether done() became true within `limit` (checked every 5 ms, and once more at the end).
template <typename Predicate>
bool eventually(std::chrono::milliseconds limit, Predicate done) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

}  // namespace testfleet::testing
