// Lets an HTTP thread wait for its run to change instead of polling: GET /v1/runs/{id}?wait_ms= holds its answer
// until a stored batch touched the run (a long-poll), so `submit --wait` sees a run's end as soon as its last result
// is stored. Ingest publishes the run ids of every stored batch; only the waiters of those runs wake and re-read
// their run. Waiters are bounded: past max_waiters a request answers at once, and close() (shutdown) ends every wait.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>

namespace testfleet::aggregator {

class RunChanges {
 public:
  explicit RunChanges(size_t max_waiters = 64) : max_waiters_(max_waiters) {}

  // Called after a batch was stored with the runs it touched (results or manifests): wakes their watches.
  void publish(const std::set<std::string>& run_ids);
  // Ends every wait for good (the server is stopping).
  void close();

  // Interest in one run, taken before the caller reads the run, so that no batch stored after the read is missed.
  class Watch {
   public:
    Watch(RunChanges& changes, std::string run_id);
    ~Watch();
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;
    // Waits until a batch stored since the watch was taken touched the run, `until` passes, or close(). False at
    // once when no watch could be taken (max_waiters were watching, or after close()).
    bool wait(std::chrono::steady_clock::time_point until);

   private:
    RunChanges& changes_;
    const std::string run_id_;
    uint64_t seen_ = 0;
    bool active_ = false;
  };

 private:
  const size_t max_waiters_;
  std::mutex mutex_;
  std::condition_variable changed_;
  uint64_t generation_ = 0;                     // stored batches published so far
  std::map<std::string, size_t> watching_;      // run id → its watches
  std::map<std::string, uint64_t> changed_at_;  // watched run id → the last batch that touched it
  size_t watches_ = 0;
  bool closed_ = false;
};

}  // namespace testfleet::aggregator
