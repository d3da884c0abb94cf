// A ResultStore whose commitBatch waits out failures that time can cure — the disk or the database is full, an
// I/O error, a lock held too long (StoreError::retriable) — instead of throwing them: it tries the same batch
// again every `retry_every` until it is stored, so ingest stops reading (nothing past the batch is consumed, the
// read positions stay) and resumes by itself when space returns. Meanwhile notReadyReason() says why, for
// /readyz. Other errors, and reads, pass through unchanged. Thread-safe as the store it wraps.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>

#include "aggregator/storage/result_store.h"

namespace testfleet::aggregator {

class RetryingResultStore final : public ResultStore {
 public:
  // While `stop` is set, a waiting commitBatch gives up and throws the last StoreError (the batch is then read
  // again by the next start). `inner` must outlive this store.
  RetryingResultStore(ResultStore& inner, const std::atomic<bool>& stop, std::chrono::milliseconds retry_every);

  // Why results cannot be stored now; empty while they can.
  std::string notReadyReason() const;

  BatchOutcome commitBatch(const std::vector<v1::Result>& results, const std::vector<v1::RunManifest>& manifests,
                           const Positions& next_offsets, int64_t now_ms) override;
  Positions positions() override { return inner_.positions(); }
  std::vector<RunInfo> listRuns(const RunQuery& query) override { return inner_.listRuns(query); }
  std::optional<RunInfo> run(const std::string& run_id) override { return inner_.run(run_id); }
  std::vector<v1::Result> finalResults(const std::string& run_id) override { return inner_.finalResults(run_id); }
  std::vector<v1::Result> allAttempts(const std::string& run_id) override { return inner_.allAttempts(run_id); }
  std::map<std::string, uint32_t> jobDurations(const std::string& suite, size_t runs) override {
    return inner_.jobDurations(suite, runs);
  }
  std::map<std::string, uint32_t> testDurations(const std::string& suite, size_t runs) override {
    return inner_.testDurations(suite, runs);
  }
  size_t resultRows(const std::string& run_id) override { return inner_.resultRows(run_id); }
  size_t runsInProgress() override { return inner_.runsInProgress(); }

 private:
  void setProblem(std::string problem);

  ResultStore& inner_;
  const std::atomic<bool>& stop_;
  const std::chrono::milliseconds retry_every_;
  mutable std::mutex mu_;  // guards problem_
  std::string problem_;
};

}  // namespace testfleet::aggregator
