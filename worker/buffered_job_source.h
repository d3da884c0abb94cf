// The job source on a consumer group: fetched records wait in bounded per-partition buffers, in offset order;
// each partition has at most one lease out. Partitions are paused only when the buffers are over their bounds
// (librdkafka 2.0 resumes a paused partition's fetch only on a 1 s timer, so pausing for every job would cost a
// second per job). A retry record waits until it is due, holding back only its own partition; one that blocks due
// records behind it is handed out to be moved to its partition's end. Loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <vector>

#include "common/clock.h"
#include "common/kafka/topics.h"
#include "worker/job_source.h"
#include "worker/record_consumer.h"

namespace testfleet::worker {

struct SourceSettings {
  kafka::Topics topics;                                 // which topics hold retry records
  std::vector<std::chrono::milliseconds> retry_delays;  // per retry topic: the latest a record there can be due
  size_t max_ready_count = 128;                         // fetched, runnable records held before pausing
  size_t max_ready_bytes = 64 << 20;
  size_t waiting_per_partition = 16;  // retry records not due yet, per partition, before that partition pauses
  std::chrono::milliseconds hand_back_pause{1000};  // a partition whose record was handed back waits this long
};

class BufferedJobSource : public JobSource, private kafka::RebalanceListener {
 public:
  using WallClock = std::function<int64_t()>;  // milliseconds since the epoch
  BufferedJobSource(RecordConsumer& consumer, SourceSettings settings, WallClock now = nowMillis);
  ~BufferedJobSource() override;  // detaches from the consumer, whose close() may still report a revoke
  BufferedJobSource(const BufferedJobSource&) = delete;
  BufferedJobSource& operator=(const BufferedJobSource&) = delete;

  void poll(std::chrono::milliseconds wait) override;
  std::optional<JobLease> next() override;
  void finished(const kafka::TopicPartition& tp, uint64_t token, LeaseEnd end) override;
  void drain() override;
  void close() override;

  // For tests and logs: records fetched and not handed out.
  size_t buffered() const { return buffered_count_; }

 private:
  struct Buffered {
    kafka::Message record;
    int64_t due_ms = 0;  // retry records: not to be started before
    bool stays = false;  // moving it to its partition's end was refused for good: it runs where it is, when due
  };
  struct Leased {
    kafka::Message record;  // kept so a lease handed back runs again without a seek
    uint64_t token = 0;
    std::shared_ptr<std::atomic<bool>> cancel;
  };

  void onAssigned(const std::vector<kafka::TopicPartition>& tps) override;
  void onRevoked(const std::vector<kafka::TopicPartition>& tps) override;

  void buffer(kafka::Message m, bool at_front);
  bool held(const kafka::TopicPartition& tp, int64_t now);
  int64_t clampedDue(int64_t not_before_ms, const kafka::Message& m) const;
  JobLease lease(const kafka::TopicPartition& tp, JobLease::Kind kind);
  std::optional<JobLease> blockingRetry(int64_t now);
  void dropBuffered(const kafka::TopicPartition& tp);
  void updatePauses();

  RecordConsumer& consumer_;
  SourceSettings settings_;
  WallClock now_;

  std::set<kafka::TopicPartition> assigned_, paused_;
  std::set<kafka::TopicPartition> unstarted_;  // assigned, no record read yet
  std::map<kafka::TopicPartition, Leased> leased_;
  std::map<kafka::TopicPartition, std::deque<Buffered>> buffered_;
  std::map<kafka::TopicPartition, int64_t> held_until_;  // partitions pausing after a record was handed back
  kafka::TopicPartition last_leased_;                    // partitions take turns
  size_t buffered_bytes_ = 0, buffered_count_ = 0;
  bool backpressure_ = false;
  bool draining_ = false;
  uint64_t next_token_ = 1;
};

}  // namespace testfleet::worker
