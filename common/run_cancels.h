// Run cancellations. `testfleet cancel`, an interrupted `submit --wait` and the aggregator's cancel route write a
// RunCancel record, keyed by run id, to the compacted control topic (kafka::Topics::control, one partition).
// Workers read that topic whole, without a group, and skip or stop the jobs of the runs it names.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/kafka/kafka.h"
#include "testfleet/v1/testfleet.pb.h"

namespace testfleet {

// The control record that cancels `run_id`; `by` says who asked (logs, the record itself).
kafka::OutgoingRecord runCancelRecord(const std::string& control_topic, const std::string& run_id, int64_t now_ms,
                                      const std::string& by);
// Writes the control record that cancels `run_id` and waits for the broker's acknowledgement. Throws kafka::Error.
void sendRunCancel(const kafka::ClientSettings& kafka, const std::string& control_topic, const std::string& run_id,
                   const std::string& by);
// A control record as a cancellation; nullopt when it is not one this version reads.
std::optional<v1::RunCancel> parseRunCancel(const kafka::Message& record);

// What a service knows of cancelled runs. Thread-safe.
class CancelledRuns {
 public:
  virtual ~CancelledRuns() = default;
  virtual bool cancelled(const std::string& run_id) const = 0;
};

// Cancellations kept in memory, bounded: one older than `keep` (by its cancelled_at_ms) is forgotten, and past
// `max_runs` the oldest go first. A run's jobs are not expected to be queued for longer than `keep`. Thread-safe.
class RecentCancels : public CancelledRuns {
 public:
  explicit RecentCancels(std::chrono::milliseconds keep = std::chrono::hours(24), size_t max_runs = 100'000)
      : keep_(keep), max_runs_(max_runs) {}
  void add(const std::string& run_id, int64_t cancelled_at_ms, int64_t now_ms);
  bool cancelled(const std::string& run_id) const override;
  size_t size() const;

 private:
  const std::chrono::milliseconds keep_;
  const size_t max_runs_;
  mutable std::mutex mu_;              // guards at_
  std::map<std::string, int64_t> at_;  // run id → cancelled_at_ms
};

// Reads the control topic from its beginning on its own thread into `cancels`, for as long as it lives. The
// constructor returns once the records there at the start are read, or after `catch_up`, so a worker does not start
// a job of a run cancelled before it started. A Kafka error is logged and the read starts again a second later. The
// destructor stops and joins the thread.
class ControlTopicFollower {
 public:
  ControlTopicFollower(const kafka::ClientSettings& kafka, const std::string& control_topic, RecentCancels& cancels,
                       std::chrono::milliseconds catch_up = std::chrono::seconds(10));
  ~ControlTopicFollower();
  ControlTopicFollower(const ControlTopicFollower&) = delete;
  ControlTopicFollower& operator=(const ControlTopicFollower&) = delete;

 private:
  void follow(const std::stop_token& stop, const kafka::ClientSettings& kafka, const std::string& topic);
  void read(const std::stop_token& stop, const kafka::ClientSettings& kafka, const std::string& topic);
  void caughtUp();
  RecentCancels& cancels_;
  std::promise<void> caught_up_;
  std::atomic<bool> caught_up_set_{false};
  std::jthread thread_;  // last: stopped and joined first
};

}  // namespace testfleet
