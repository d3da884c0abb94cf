#include "aggregator/storage/retrying_result_store.h"

#include <spdlog/spdlog.h>

#include <thread>

#include "aggregator/storage/store_error.h"

namespace testfleet::aggregator {

RetryingResultStore::RetryingResultStore(ResultStore& inner, const std::atomic<bool>& stop,
                                         std::chrono::milliseconds retry_every)
    : inner_(inner), stop_(stop), retry_every_(retry_every) {}

std::string RetryingResultStore::notReadyReason() const {
  std::lock_guard lock(mu_);
  return problem_;
}

void RetryingResultStore::setProblem(std::string problem) {
  std::lock_guard lock(mu_);
  problem_ = std::move(problem);
}

BatchOutcome RetryingResultStore::commitBatch(const std::vector<v1::Result>& results,
                                              const std::vector<v1::RunManifest>& manifests,
                                              const Positions& next_offsets, int64_t now_ms) {
  for (int failures = 0;; ++failures) {
    try {
      BatchOutcome outcome = inner_.commitBatch(results, manifests, next_offsets, now_ms);
      if (failures > 0) {
        spdlog::info("results are stored again after {} failed attempt(s); ingest resumed", failures);
        setProblem("");
      }
      return outcome;
    } catch (const StoreError& e) {
      if (!e.retriable() || stop_) throw;
      if (failures == 0) {
        spdlog::error(
            "cannot store results: {}; ingest paused (nothing more is read) and retried every {} ms until "
            "it succeeds — free disk space for the database",
            e.what(), retry_every_.count());
      }
      setProblem(std::string("cannot store results: ") + e.what());
    }
    const auto until = std::chrono::steady_clock::now() + retry_every_;
    while (!stop_ && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::min(retry_every_, std::chrono::milliseconds(100)));
    }
  }
}

}  // namespace testfleet::aggregator
