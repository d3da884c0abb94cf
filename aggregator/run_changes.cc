#include "aggregator/run_changes.h"

namespace testfleet::aggregator {

void RunChanges::publish(const std::set<std::string>& run_ids) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    ++generation_;
    for (const auto& id : run_ids) {
      if (!watching_.count(id)) continue;
      changed_at_[id] = generation_;
      wake = true;
    }
  }
  if (wake) changed_.notify_all();
}

void RunChanges::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  changed_.notify_all();
}

RunChanges::Watch::Watch(RunChanges& changes, std::string run_id) : changes_(changes), run_id_(std::move(run_id)) {
  std::lock_guard lock(changes_.mutex_);
  if (changes_.closed_ || changes_.watches_ >= changes_.max_waiters_) return;
  active_ = true;
  seen_ = changes_.generation_;
  ++changes_.watches_;
  ++changes_.watching_[run_id_];
}

RunChanges::Watch::~Watch() {
  if (!active_) return;
  std::lock_guard lock(changes_.mutex_);
  --changes_.watches_;
  if (--changes_.watching_[run_id_] == 0) {
    changes_.watching_.erase(run_id_);
    changes_.changed_at_.erase(run_id_);
  }
}

bool RunChanges::Watch::wait(std::chrono::steady_clock::time_point until) {
  if (!active_) return false;
  std::unique_lock lock(changes_.mutex_);
  changes_.changed_.wait_until(lock, until, [&] {
    auto it = changes_.changed_at_.find(run_id_);
    return changes_.closed_ || (it != changes_.changed_at_.end() && it->second > seen_);
  });
  return !changes_.closed_;
}

}  // namespace testfleet::aggregator
