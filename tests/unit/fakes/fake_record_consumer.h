// A hand-written consumer-group member for unit tests of code above the Kafka wrapper (the job source and the
// loop). The test thread scripts events — assignments, revocations, records, an error — and the polling thread
// plays them in order, rebalance callbacks included, as kafka::GroupConsumer would. Pauses and resumes are recorded.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <variant>

#include "worker/record_consumer.h"

namespace testfleet::testing {

class FakeRecordConsumer : public worker::RecordConsumer {
 public:
  // Like kafka::GroupConsumer, it leaves the group when destroyed (revoking through the listener, if still set).
  ~FakeRecordConsumer() override { close(); }

  struct Assign {
    std::vector<kafka::TopicPartition> tps;
  };
  struct Revoke {
    std::vector<kafka::TopicPartition> tps;
  };
  using Event = std::variant<Assign, Revoke, kafka::Message, kafka::Error>;

  // Test thread.
  void play(Event e) {
    {
      std::lock_guard lock(mu_);
      events_.push_back(std::move(e));
    }
    cv_.notify_all();
  }
  void assign(std::vector<kafka::TopicPartition> tps) { play(Assign{std::move(tps)}); }
  void revoke(std::vector<kafka::TopicPartition> tps) { play(Revoke{std::move(tps)}); }
  void record(const kafka::TopicPartition& tp, int64_t offset, std::string payload, int64_t timestamp_ms = -1) {
    play(kafka::Message{tp, offset, timestamp_ms, "key-" + std::to_string(offset), std::move(payload)});
  }
  bool played() const {
    std::lock_guard lock(mu_);
    return events_.empty();
  }
  std::set<kafka::TopicPartition> paused() const {
    std::lock_guard lock(mu_);
    return paused_;
  }
  int pauseCalls() const {
    std::lock_guard lock(mu_);
    return pause_calls_;
  }
  int resumeCalls() const {
    std::lock_guard lock(mu_);
    return resume_calls_;
  }
  bool closed() const {
    std::lock_guard lock(mu_);
    return closed_;
  }
  void setMemberId(std::string id) {
    std::lock_guard lock(mu_);
    member_id_ = std::move(id);
  }

  // RecordConsumer, polling thread.
  void setListener(kafka::RebalanceListener* listener) override { listener_ = listener; }
  std::optional<kafka::Message> poll(std::chrono::milliseconds timeout) override {
    Event e;
    {
      std::unique_lock lock(mu_);
      if (!cv_.wait_for(lock, timeout, [&] { return !events_.empty(); })) return std::nullopt;
      e = std::move(events_.front());
      events_.pop_front();
    }
    if (auto* a = std::get_if<Assign>(&e)) {
      assigned_.insert(a->tps.begin(), a->tps.end());
      if (listener_) listener_->onAssigned(a->tps);
    } else if (auto* r = std::get_if<Revoke>(&e)) {
      for (const auto& tp : r->tps) assigned_.erase(tp);
      if (listener_) listener_->onRevoked(r->tps);
    } else if (auto* err = std::get_if<kafka::Error>(&e)) {
      throw *err;
    } else {
      return std::get<kafka::Message>(std::move(e));
    }
    return std::nullopt;
  }
  void pause(const std::vector<kafka::TopicPartition>& tps) override {
    std::lock_guard lock(mu_);
    ++pause_calls_;
    paused_.insert(tps.begin(), tps.end());
  }
  void resume(const std::vector<kafka::TopicPartition>& tps) override {
    std::lock_guard lock(mu_);
    ++resume_calls_;
    for (const auto& tp : tps) paused_.erase(tp);
  }
  std::string memberId() const override {
    std::lock_guard lock(mu_);
    return member_id_;
  }
  void close() override {
    {
      std::lock_guard lock(mu_);
      if (closed_) return;
      closed_ = true;
    }
    std::vector<kafka::TopicPartition> revoked(assigned_.begin(), assigned_.end());
    assigned_.clear();
    if (listener_ && !revoked.empty()) listener_->onRevoked(revoked);
  }

 private:
  kafka::RebalanceListener* listener_ = nullptr;
  std::set<kafka::TopicPartition> assigned_;  // the polling thread's view, as the listener was told
  mutable std::mutex mu_;                     // guards everything below
  std::condition_variable cv_;
  std::deque<Event> events_;
  std::set<kafka::TopicPartition> paused_;
  int pause_calls_ = 0, resume_calls_ = 0;
  bool closed_ = false;
  std::string member_id_ = "member-1";
};

}  // namespace testfleet::testing
