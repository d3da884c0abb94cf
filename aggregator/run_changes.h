// Lets an HTTP thread wait for the next stored batch instead of polling: GET /v1/runs/{id}?wait_ms= holds its answer
// until the run changes (a long-poll), so `submit --wait` sees a run's end as soon as its last result is stored.
// Ingest publishes after every stored batch; a waiter re-reads its run and waits again if nothing it cares about
// moved. Waiters are bounded: past max_waiters a request answers at once, and close() (shutdown) ends every wait.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace testfleet::aggregator {

class RunChanges {
 public:
  explicit RunChanges(size_t max_waiters = 64) : max_waiters_(max_waiters) {}

  // Counts stored batches; a waiter remembers it before reading its run.
  uint64_t generation() const;
  // Called after a batch was stored: wakes every waiter.
  void publish();
  // Waits until a batch after `seen` is stored, `until` passes, or close(). Returns false without waiting when
  // max_waiters are already waiting or after close(); true otherwise.
  bool waitPast(uint64_t seen, std::chrono::steady_clock::time_point until);
  // Ends every wait for good (the server is stopping).
  void close();

 private:
  const size_t max_waiters_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  uint64_t generation_ = 0;
  size_t waiters_ = 0;
  bool closed_ = false;
};

}  // namespace testfleet::aggregator
