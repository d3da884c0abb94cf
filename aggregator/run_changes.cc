#include "aggregator/run_changes.h"

namespace testfleet::aggregator {

uint64_t RunChanges::generation() const {
  std::lock_guard lock(mutex_);
  return generation_;
}

void RunChanges::publish() {
  {
    std::lock_guard lock(mutex_);
    ++generation_;
  }
  changed_.notify_all();
}

bool RunChanges::waitPast(uint64_t seen, std::chrono::steady_clock::time_point until) {
  std::unique_lock lock(mutex_);
  if (closed_ || waiters_ >= max_waiters_) return false;
  ++waiters_;
  changed_.wait_until(lock, until, [&] { return closed_ || generation_ != seen; });
  --waiters_;
  return true;
}

void RunChanges::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  changed_.notify_all();
}

}  // namespace testfleet::aggregator
