#include "aggregator/http/bounded_thread_pool.h"

namespace testfleet::aggregator {

BoundedThreadPool::BoundedThreadPool(size_t max_threads) : max_threads_(max_threads == 0 ? 1 : max_threads) {}

BoundedThreadPool::~BoundedThreadPool() {
  stop();
  join();
}

void BoundedThreadPool::enqueue(std::function<void()> task) {
  std::unique_lock lock(mu_);
  slot_free_.wait(lock, [&] { return busy_ < max_threads_ || stopping_; });
  if (stopping_) {
    lock.unlock();
    task();
    return;
  }
  ++busy_;
  tasks_.push_back(std::move(task));
  if (idle_ > 0) {
    --idle_;
    task_ready_.notify_one();
  } else {
    threads_.emplace_back([this] { serve(); });
  }
}

void BoundedThreadPool::serve() {
  std::unique_lock lock(mu_);
  while (true) {
    task_ready_.wait(lock, [&] { return !tasks_.empty() || stopping_; });
    if (tasks_.empty()) return;  // stopping, nothing left
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();
    lock.lock();
    --busy_;
    ++idle_;
    slot_free_.notify_one();
  }
}

void BoundedThreadPool::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  task_ready_.notify_all();
  slot_free_.notify_all();
}

void BoundedThreadPool::join() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
}

size_t BoundedThreadPool::threads() const {
  std::lock_guard lock(mu_);
  return threads_.size();
}

}  // namespace testfleet::aggregator
