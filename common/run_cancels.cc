#include "common/run_cancels.h"

#include <spdlog/spdlog.h>

#include "common/clock.h"

namespace testfleet {

kafka::OutgoingRecord runCancelRecord(const std::string& control_topic, const std::string& run_id, int64_t now_ms,
                                      const std::string& by) {
  v1::RunCancel c;
  c.set_schema_version(1);
  c.set_run_id(run_id);
  c.set_cancelled_at_ms(now_ms);
  c.set_by(by);
  return {control_topic, run_id, c.SerializeAsString()};
}

void sendRunCancel(const kafka::ClientSettings& kafka, const std::string& control_topic, const std::string& run_id,
                   const std::string& by) {
  kafka::Producer producer(kafka);
  producer.send(runCancelRecord(control_topic, run_id, nowMillis(), by));
  producer.flush(std::chrono::seconds(30));
}

std::optional<v1::RunCancel> parseRunCancel(const kafka::Message& record) {
  v1::RunCancel c;
  if (!c.ParseFromString(record.payload) || c.schema_version() != 1 || c.run_id().empty()) return std::nullopt;
  return c;
}

void RecentCancels::add(const std::string& run_id, int64_t cancelled_at_ms, int64_t now_ms) {
  const int64_t oldest = now_ms - keep_.count();
  std::lock_guard lock(mu_);
  std::erase_if(at_, [&](const auto& entry) { return entry.second < oldest; });
  if (cancelled_at_ms < oldest) return;
  at_[run_id] = cancelled_at_ms;
  while (at_.size() > max_runs_) {
    at_.erase(
        std::min_element(at_.begin(), at_.end(), [](const auto& a, const auto& b) { return a.second < b.second; }));
  }
}

bool RecentCancels::cancelled(const std::string& run_id) const {
  std::lock_guard lock(mu_);
  return at_.contains(run_id);
}

size_t RecentCancels::size() const {
  std::lock_guard lock(mu_);
  return at_.size();
}

ControlTopicFollower::ControlTopicFollower(const kafka::ClientSettings& kafka, const std::string& control_topic,
                                           RecentCancels& cancels, std::chrono::milliseconds catch_up)
    : cancels_(cancels),
      thread_([this, kafka, control_topic](const std::stop_token& stop) { follow(stop, kafka, control_topic); }) {
  if (caught_up_.get_future().wait_for(catch_up) != std::future_status::ready) {
    spdlog::warn("the control topic {} was not read to its end within {} ms; reading on", control_topic,
                 catch_up.count());
  }
}

void ControlTopicFollower::caughtUp() {
  if (!caught_up_set_.exchange(true)) caught_up_.set_value();
}

ControlTopicFollower::~ControlTopicFollower() = default;

// Reads the topic whole, then follows it, until stopped; a Kafka error ends the read, and it starts again from the
// beginning a second later (a topic created a moment ago may have no leader yet).
void ControlTopicFollower::follow(const std::stop_token& stop, const kafka::ClientSettings& kafka,
                                  const std::string& topic) {
  while (!stop.stop_requested()) {
    try {
      read(stop, kafka, topic);
    } catch (const kafka::Error& e) {
      spdlog::warn("reading the control topic {} (run cancels; again in 1 s): {}", topic, e.what());
      for (int i = 0; i < 10 && !stop.stop_requested(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  caughtUp();
}

void ControlTopicFollower::read(const std::stop_token& stop, const kafka::ClientSettings& kafka,
                                const std::string& topic) {
  kafka::PartitionReader reader(kafka);
  const kafka::TopicPartition tp{topic, 0};
  const int64_t end = reader.endOffset(tp);
  reader.assign({{tp, kafka::PartitionReader::kBeginning}});
  if (end == 0) caughtUp();
  while (!stop.stop_requested()) {
    const std::optional<kafka::Message> m = reader.poll(std::chrono::milliseconds(200));
    if (!m) continue;
    if (m->offset + 1 >= end) caughtUp();
    const std::optional<v1::RunCancel> c = parseRunCancel(*m);
    if (!c) {
      spdlog::warn("control record {}[{}]@{} is not a run cancel this version reads; ignored", topic, m->tp.partition,
                   m->offset);
      continue;
    }
    cancels_.add(c->run_id(), c->cancelled_at_ms(), nowMillis());
    spdlog::info("run {} was cancelled ({})", c->run_id(), c->by());
  }
}

}  // namespace testfleet
