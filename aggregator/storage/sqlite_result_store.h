// ResultStore in one SQLite file (WAL). One connection behind a mutex: simple, and SQLite serialises writers anyway.
#pragma once

#include <filesystem>
#include <mutex>

#include "aggregator/storage/result_store.h"

struct sqlite3;

namespace testfleet::aggregator {

class SqliteResultStore : public ResultStore {
 public:
  // Opens or creates the database; throws std::runtime_error naming the file when it cannot.
  explicit SqliteResultStore(const std::filesystem::path& file);
  ~SqliteResultStore() override;

  BatchOutcome commitBatch(const std::vector<v1::Result>& results, const std::vector<v1::RunManifest>& manifests,
                           const Positions& next_offsets, int64_t now_ms) override;
  Positions positions() override;
  std::vector<RunInfo> listRuns(const RunQuery& query) override;
  std::optional<RunInfo> run(const std::string& run_id) override;
  std::vector<v1::Result> finalResults(const std::string& run_id) override;
  std::vector<v1::Result> allAttempts(const std::string& run_id) override;
  std::map<std::string, uint32_t> jobDurations(const std::string& suite, size_t runs) override;
  std::map<std::string, uint32_t> testDurations(const std::string& suite, size_t runs) override;
  size_t resultRows(const std::string& run_id) override;
  size_t runsInProgress() override;

 private:
  struct Closer {
    void operator()(sqlite3* db) const;
  };
  std::mutex mu_;  // guards db_
  std::unique_ptr<sqlite3, Closer> db_;
};

}  // namespace testfleet::aggregator
