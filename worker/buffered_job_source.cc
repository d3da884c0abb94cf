#include "worker/buffered_job_source.h"

#include <algorithm>
#include <string>

#include <spdlog/spdlog.h>

#include "testfleet/v1/testfleet.pb.h"

namespace testfleet::worker {

using kafka::TopicPartition;

BufferedJobSource::BufferedJobSource(RecordConsumer& consumer, SourceSettings settings, WallClock now)
    : consumer_(consumer), settings_(std::move(settings)), now_(std::move(now)) {
  consumer_.setListener(this);
}

BufferedJobSource::~BufferedJobSource() { consumer_.setListener(nullptr); }

namespace {

// "jobs[0,3] jobs.retry-1[2]": the partitions of a rebalance, for the log.
std::string describe(const std::vector<TopicPartition>& tps) {
  std::map<std::string, std::vector<int32_t>> by_topic;
  for (const auto& tp : tps) by_topic[tp.topic].push_back(tp.partition);
  std::string out;
  for (auto& [topic, parts] : by_topic) {
    std::sort(parts.begin(), parts.end());
    out += (out.empty() ? "" : " ") + topic + "[";
    for (size_t i = 0; i < parts.size(); ++i) out += (i ? "," : "") + std::to_string(parts[i]);
    out += "]";
  }
  return out;
}

}  // namespace

void BufferedJobSource::onAssigned(const std::vector<TopicPartition>& tps) {
  for (const auto& tp : tps) {
    assigned_.insert(tp);
    unstarted_.insert(tp);
  }
  spdlog::info("assigned {} partition(s); now {}{}{}", tps.size(), assigned_.size(), tps.empty() ? "" : ": ",
               describe(tps));
}

void BufferedJobSource::onRevoked(const std::vector<TopicPartition>& tps) {
  for (const auto& tp : tps) {
    assigned_.erase(tp);
    unstarted_.erase(tp);
    paused_.erase(tp);
    dropBuffered(tp);
    held_until_.erase(tp);
    if (auto it = leased_.find(tp); it != leased_.end()) {
      spdlog::warn("partition {}[{}] revoked while its job runs; cancelling it for the next owner", tp.topic,
                   tp.partition);
      it->second.cancel->store(true);
      leased_.erase(it);
    }
  }
  spdlog::info("revoked {} partition(s); now {}{}{}", tps.size(), assigned_.size(), tps.empty() ? "" : ": ",
               describe(tps));
}

void BufferedJobSource::poll(std::chrono::milliseconds wait) {
  updatePauses();
  if (auto m = consumer_.poll(wait)) {
    if (!assigned_.count(m->tp)) return;  // fetched before a revoke: its next owner reads it
    // Where a new owner starts is where the group's committed offset was: logged, as a re-run or a gap shows here.
    if (unstarted_.erase(m->tp))
      spdlog::info("{}[{}]: first record at offset {}", m->tp.topic, m->tp.partition, m->offset);
    buffer(std::move(*m), false);
  }
}

// Whether tp pauses after a hand-back (forgotten once the pause is over).
bool BufferedJobSource::held(const TopicPartition& tp, int64_t now) {
  auto it = held_until_.find(tp);
  if (it == held_until_.end()) return false;
  if (it->second > now) return true;
  held_until_.erase(it);
  return false;
}

void BufferedJobSource::buffer(kafka::Message m, bool at_front) {
  Buffered b{std::move(m), 0};
  if (settings_.topics.isRetry(b.record.tp.topic)) {
    v1::Job peek;
    if (peek.ParseFromString(b.record.payload)) b.due_ms = clampedDue(peek.not_before_ms(), b.record);
  }
  buffered_bytes_ += b.record.payload.size();
  ++buffered_count_;
  auto& q = buffered_[b.record.tp];
  if (at_front) {
    q.push_front(std::move(b));
  } else {
    q.push_back(std::move(b));
  }
}

// A retry record's due time comes from the record itself, but never later than its own topic's delay after it was
// produced: that is the latest a worker would have set it. So records on a retry topic are due in the order they
// sit in, and a forged or corrupt one (due in the year 3000) waits one delay, not forever.
int64_t BufferedJobSource::clampedDue(int64_t not_before_ms, const kafka::Message& m) const {
  const auto& retries = settings_.topics.retries;
  const auto& delays = settings_.retry_delays;
  const size_t step = static_cast<size_t>(std::find(retries.begin(), retries.end(), m.tp.topic) - retries.begin());
  const auto longest = std::max_element(delays.begin(), delays.end());
  const int64_t delay = step < delays.size() ? delays[step].count() : longest != delays.end() ? longest->count() : 0;
  const int64_t latest = (m.timestamp_ms >= 0 ? m.timestamp_ms : now_()) + delay;
  if (not_before_ms <= latest) return not_before_ms;
  spdlog::warn("retry record {}[{}]@{} is due at {} ms, later than its topic's delay allows; it runs at {}", m.tp.topic,
               m.tp.partition, m.offset, not_before_ms, latest);
  return latest;
}

JobLease BufferedJobSource::lease(const TopicPartition& tp, JobLease::Kind kind) {
  auto& q = buffered_[tp];
  kafka::Message m = std::move(q.front().record);
  q.pop_front();
  buffered_bytes_ -= m.payload.size();
  --buffered_count_;
  JobLease l{kind, m, next_token_++, std::make_shared<std::atomic<bool>>(false), consumer_.memberId()};
  leased_[tp] = Leased{std::move(m), l.token, l.cancel};
  last_leased_ = tp;
  return l;
}

// A retry record that is not due yet but has due records behind it on its partition is moved out of their way.
// Nothing waits behind a record that is not due, and a waiting record never holds a slot.
std::optional<JobLease> BufferedJobSource::blockingRetry(int64_t now) {
  for (const auto& [tp, q] : buffered_) {
    if (q.size() < 2 || leased_.count(tp) || q.front().due_ms <= now || q.front().stays || held(tp, now) ||
        !settings_.topics.isRetry(tp.topic)) {
      continue;
    }
    if (std::any_of(q.begin() + 1, q.end(), [&](const Buffered& b) { return b.due_ms <= now; })) {
      spdlog::info("retry record {}[{}]@{} is not due for {} s; moving it behind the due ones", tp.topic, tp.partition,
                   q.front().record.offset, (q.front().due_ms - now) / 1000);
      return lease(tp, JobLease::Kind::kMoveToEnd);
    }
  }
  return std::nullopt;
}

std::optional<JobLease> BufferedJobSource::next() {
  if (draining_) return std::nullopt;
  const int64_t now = now_();
  if (auto moved = blockingRetry(now)) return moved;
  // Partitions take turns: start after the one that was leased last.
  auto first = buffered_.upper_bound(last_leased_);
  for (size_t i = 0; i < buffered_.size(); ++i, ++first) {
    if (first == buffered_.end()) first = buffered_.begin();
    const auto& [tp, q] = *first;
    if (q.empty() || leased_.count(tp) || q.front().due_ms > now || held(tp, now)) continue;
    return lease(tp, JobLease::Kind::kRun);
  }
  return std::nullopt;
}

void BufferedJobSource::finished(const TopicPartition& tp, uint64_t token, LeaseEnd end) {
  auto it = leased_.find(tp);
  if (it == leased_.end() || it->second.token != token) return;  // revoked meanwhile
  kafka::Message m = std::move(it->second.record);
  leased_.erase(it);
  if (end == LeaseEnd::kConsumed) return;
  // Not committed (and not cancelled for a revoke): it runs again, before the partition's later records, once the
  // partition's pause is over.
  if (!assigned_.count(tp) || draining_) return;
  buffer(std::move(m), true);
  buffered_[tp].front().stays = end == LeaseEnd::kRefused;
  held_until_[tp] = now_() + settings_.hand_back_pause.count();
}

void BufferedJobSource::drain() { draining_ = true; }

void BufferedJobSource::close() { consumer_.close(); }

void BufferedJobSource::dropBuffered(const TopicPartition& tp) {
  auto it = buffered_.find(tp);
  if (it == buffered_.end()) return;
  for (const auto& b : it->second) {
    buffered_bytes_ -= b.record.payload.size();
    --buffered_count_;
  }
  buffered_.erase(it);
}

// Back-pressure: pauses every partition while the ready records are over their bounds (or while draining), and
// resumes them once they are down to half. Retry records that are not due count apart: they hold no slot and must
// not stop the jobs topic; a retry partition with enough of them waiting is paused on its own.
void BufferedJobSource::updatePauses() {
  const int64_t now = now_();
  size_t waiting_bytes = 0, waiting_count = 0;
  std::set<TopicPartition> want;
  for (const auto& [tp, q] : buffered_) {
    size_t waiting_here = 0;
    for (const auto& b : q) {
      if (b.due_ms <= now) continue;
      ++waiting_here;
      waiting_bytes += b.record.payload.size();
    }
    waiting_count += waiting_here;
    if (waiting_here >= settings_.waiting_per_partition && assigned_.count(tp)) want.insert(tp);
  }
  const size_t ready_bytes = buffered_bytes_ - waiting_bytes, ready_count = buffered_count_ - waiting_count;
  if (!backpressure_ && (ready_bytes > settings_.max_ready_bytes || ready_count > settings_.max_ready_count)) {
    backpressure_ = true;
  } else if (backpressure_ && ready_bytes <= settings_.max_ready_bytes / 2 &&
             ready_count <= settings_.max_ready_count / 2) {
    backpressure_ = false;
  }
  if (draining_ || backpressure_) want = assigned_;
  std::vector<TopicPartition> to_pause, to_resume;
  for (const auto& tp : want) {
    if (!paused_.count(tp)) to_pause.push_back(tp);
  }
  for (const auto& tp : paused_) {
    if (!want.count(tp)) to_resume.push_back(tp);
  }
  if (!to_pause.empty()) consumer_.pause(to_pause);
  if (!to_resume.empty()) consumer_.resume(to_resume);
  paused_ = std::move(want);
}

}  // namespace testfleet::worker
