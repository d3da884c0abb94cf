// What the job source needs of a consumer-group member. KafkaRecordConsumer adapts kafka::GroupConsumer to it;
// unit tests of the loop put a fake here (above the Kafka wrapper, never in integration tests). One thread calls
// everything but memberId(), which is thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/kafka/kafka.h"

namespace testfleet::worker {

class RecordConsumer {
 public:
  virtual ~RecordConsumer() = default;
  // Rebalance events of later polls go to `listener` (called inside poll()).
  virtual void setListener(kafka::RebalanceListener* listener) = 0;
  // Throws kafka::Error on an error the consumer cannot go on after.
  virtual std::optional<kafka::Message> poll(std::chrono::milliseconds timeout) = 0;
  virtual void pause(const std::vector<kafka::TopicPartition>& partitions) = 0;
  virtual void resume(const std::vector<kafka::TopicPartition>& partitions) = 0;
  virtual std::string memberId() const = 0;
  virtual void close() = 0;
};

// kafka::GroupConsumer behind the RecordConsumer seam.
class KafkaRecordConsumer : public RecordConsumer, private kafka::RebalanceListener {
 public:
  explicit KafkaRecordConsumer(const kafka::GroupConsumerSettings& settings) : consumer_(settings, this) {}

  void setListener(kafka::RebalanceListener* listener) override { listener_ = listener; }
  std::optional<kafka::Message> poll(std::chrono::milliseconds timeout) override { return consumer_.poll(timeout); }
  void pause(const std::vector<kafka::TopicPartition>& tps) override { consumer_.pause(tps); }
  void resume(const std::vector<kafka::TopicPartition>& tps) override { consumer_.resume(tps); }
  std::string memberId() const override { return consumer_.memberId(); }
  void close() override { consumer_.close(); }

  // The member itself, for the transactions that commit its offsets.
  kafka::GroupConsumer& group() { return consumer_; }

 private:
  void onAssigned(const std::vector<kafka::TopicPartition>& tps) override {
    if (listener_) listener_->onAssigned(tps);
  }
  void onRevoked(const std::vector<kafka::TopicPartition>& tps) override {
    if (listener_) listener_->onRevoked(tps);
  }

  kafka::RebalanceListener* listener_ = nullptr;
  kafka::GroupConsumer consumer_;  // last: its callbacks use listener_
};

}  // namespace testfleet::worker
