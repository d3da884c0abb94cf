// The seam where a job's records leave the worker: written together with the consumed offset of the job's record,
// all or nothing. TransactionalResultSink is the Kafka one; unit tests use a fake.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/kafka/kafka.h"

namespace testfleet::worker {

enum class CommitOutcome {
  kCommitted,
  kNotCommitted,  // nothing was written; the job runs again (here, if its partition is still ours)
  kRefused,       // the records were refused for good (too large, not authorised): never send them again
  kFatal,         // the sink cannot write any more; the worker must stop
};

// When a commit must not happen: the job was cancelled (its partition revoked, the worker handing it back), or
// the group dropped this worker since the job started (member_id differs now; empty: not checked).
struct CommitGuard {
  const std::atomic<bool>* cancel = nullptr;
  std::string member_id;
};

// commit() may be called from any thread, concurrently; implementations serialise what they must.
class ResultSink {
 public:
  virtual ~ResultSink() = default;
  // Writes `records` and marks tp's record at `offset` consumed, in one transaction.
  virtual CommitOutcome commit(const std::vector<kafka::OutgoingRecord>& records, const kafka::TopicPartition& tp,
                               int64_t offset, const CommitGuard& guard) = 0;
};
using ResultSinkPtr = std::unique_ptr<ResultSink>;

}  // namespace testfleet::worker
