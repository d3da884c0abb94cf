// Where the aggregator keeps results, run manifests and its own read positions in Kafka.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/kafka/kafka.h"
#include "common/verdict.h"
#include "testfleet/v1/testfleet.pb.h"

namespace testfleet::aggregator {

struct RunInfo {
  v1::RunManifest manifest;                      // the run's first manifest: the one that counts
  std::map<v1::Verdict, uint32_t> job_verdicts;  // jobs it lists with a final result, by job verdict (jobVerdict)
  int64_t completed_at_ms = 0;                   // 0 while running
  bool complete() const { return completed_at_ms != 0; }
  // The run's verdict and counts, by the one rule (judgeRun); the list, the run view and every report use it.
  RunVerdict verdict() const {
    return judgeRun({manifest.expected_jobs(), complete(), manifest.flaky_fails_run(), job_verdicts});
  }
};

// Where a page of the run list starts: just after this run in its order (newest submission first, then run id).
struct RunCursor {
  int64_t submitted_at_ms = 0;
  std::string run_id;
};

// Which runs listRuns gives: newest first, after `after`, those matching every filter set, at most `limit`.
struct RunQuery {
  enum class Status { any, running, complete, passed, failed };  // passed, failed: complete runs by their verdict
  std::string suite;                                             // empty: any suite
  Status status = Status::any;
  std::map<std::string, std::string> labels;  // the manifest has each of these labels with this value
  std::optional<RunCursor> after;
  size_t limit = 50;
  // Whether the run passes the filters (not the cursor); the store asks this of every run it reads.
  bool matches(const RunInfo& run) const;
};

using Positions = std::map<kafka::TopicPartition, int64_t>;  // next offset to read per partition

// What a batch changed, for metrics and logs.
struct BatchOutcome {
  // Indices into the batch's results of those stored now (not stored before); for a result in parts, the index of
  // the part that completed it.
  std::vector<size_t> fresh;
  // Per run id, results for jobs the run's manifest does not list: stored, but no part of the run. Each is counted
  // once, when both it and the manifest are known, whichever arrived first.
  std::map<std::string, size_t> unknown_job;
  // Run ids whose manifest in this batch was ignored: the run already had a different one (a reused run id).
  std::vector<std::string> duplicate_manifest;
  // Run ids this batch completed (every listed job has a final result now, and had not before).
  std::vector<std::string> completed;
};

// Thread-safe: the ingest thread writes while HTTP threads read.
class ResultStore {
 public:
  virtual ~ResultStore() = default;
  // Atomically: stores the results (a (run, job, attempt) already stored is left unchanged), stores each run's
  // first manifest (a later one for the same run id is ignored), moves the read positions, and marks runs complete
  // whose listed jobs all have final results. A run is made only of results for jobs its manifest lists; others are
  // kept (a result may arrive before its manifest) but count nowhere. A result in parts (common/result_parts.h) is
  // stored, merged, once its last part is here, in this batch or a later one; until then it counts nowhere.
  virtual BatchOutcome commitBatch(const std::vector<v1::Result>& results,
                                   const std::vector<v1::RunManifest>& manifests, const Positions& next_offsets,
                                   int64_t now_ms) = 0;
  virtual Positions positions() = 0;
  // Reads runs in the list's order until `limit` match the query: a rare filter may read every stored run.
  virtual std::vector<RunInfo> listRuns(const RunQuery& query) = 0;
  virtual std::optional<RunInfo> run(const std::string& run_id) = 0;
  // The final result of each job the run lists (its highest final attempt), in job name order.
  virtual std::vector<v1::Result> finalResults(const std::string& run_id) = 0;
  // Every stored attempt of every job the run lists (final or not), by job then attempt.
  virtual std::vector<v1::Result> allAttempts(const std::string& run_id) = 0;
  // Mean wall time per job id over the final results of the suite's last `runs` completed runs.
  virtual std::map<std::string, uint32_t> jobDurations(const std::string& suite, size_t runs) = 0;
  // Mean duration per test file over the suite's last `runs` completed runs (see apportionToTests).
  virtual std::map<std::string, uint32_t> testDurations(const std::string& suite, size_t runs) = 0;
  // How many result rows are stored for the run (every attempt, listed jobs or not).
  virtual size_t resultRows(const std::string& run_id) = 0;
  // How many runs have a manifest and are not complete.
  virtual size_t runsInProgress() = 0;
};

using ResultStorePtr = std::unique_ptr<ResultStore>;

}  // namespace testfleet::aggregator
