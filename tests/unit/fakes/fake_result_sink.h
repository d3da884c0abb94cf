// A hand-written result sink for unit tests of the job loop: keeps every commit it is asked for, answers with a
// scripted outcome, and honours the sink's contract that a cancelled job's records are never committed.
#pragma once

#include <functional>
#include <mutex>
#include <vector>

#include "worker/record_consumer.h"
#include "worker/result_sink.h"

namespace testfleet::testing {

class FakeResultSink : public worker::ResultSink {
 public:
  struct Commit {
    std::vector<kafka::OutgoingRecord> records;
    kafka::TopicPartition tp;
    int64_t offset = 0;
    worker::CommitOutcome outcome = worker::CommitOutcome::kCommitted;
  };
  // Decides each commit's outcome (default: committed). Called with the sink's lock held.
  std::function<worker::CommitOutcome(const Commit&)> answer;
  // When set, a commit whose guard names another member id than this consumer's now is not made (the group
  // dropped the worker meanwhile), as TransactionalResultSink does.
  const worker::RecordConsumer* group = nullptr;

  worker::CommitOutcome commit(const std::vector<kafka::OutgoingRecord>& records, const kafka::TopicPartition& tp,
                               int64_t offset, const worker::CommitGuard& guard) override {
    std::lock_guard lock(mu_);
    Commit c{records, tp, offset};
    if ((guard.cancel && guard.cancel->load()) ||
        (group && !guard.member_id.empty() && group->memberId() != guard.member_id)) {
      c.outcome = worker::CommitOutcome::kNotCommitted;
    } else if (answer) {
      c.outcome = answer(c);
    }
    asked_.push_back(c);
    return c.outcome;
  }

  // Every commit asked for, in order, with its outcome.
  std::vector<Commit> asked() const {
    std::lock_guard lock(mu_);
    return asked_;
  }
  std::vector<Commit> committed() const {
    std::vector<Commit> out;
    for (auto& c : asked()) {
      if (c.outcome == worker::CommitOutcome::kCommitted) out.push_back(c);
    }
    return out;
  }

 private:
  mutable std::mutex mu_;  // guards asked_ (slot threads commit concurrently)
  std::vector<Commit> asked_;
};

}  // namespace testfleet::testing
