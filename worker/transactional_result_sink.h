// The result sink on Kafka: one transaction per commit (records + the group's offset), following the
// transactional producer's error contract (common/kafka/kafka.h). An abortable failure is tried again a few
// times; an unknown outcome is settled by reading the group's committed offset.
#pragma once

#include <optional>
#include <string>

#include "common/kafka/kafka.h"
#include "worker/result_sink.h"

namespace testfleet::worker {

class TransactionalResultSink : public ResultSink {
 public:
  // consumer: the group member whose offsets the transactions commit; it must outlive the sink.
  TransactionalResultSink(const kafka::ClientSettings& client, const std::string& transactional_id,
                          kafka::GroupConsumer& consumer);

  CommitOutcome commit(const std::vector<kafka::OutgoingRecord>& records, const kafka::TopicPartition& tp,
                       int64_t offset, const CommitGuard& guard) override;

 private:
  // Whether the group's committed offset of tp is past `offset`, or nullopt when it cannot be read.
  std::optional<bool> committedSince(const kafka::TopicPartition& tp, int64_t offset);

  kafka::GroupConsumer& consumer_;
  kafka::TransactionalProducer producer_;
};

}  // namespace testfleet::worker
