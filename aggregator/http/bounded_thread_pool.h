// The HTTP server's connection threads: at most `max_threads`, started as connections need them and kept for the
// next ones. enqueue() waits while every thread is busy, so the accept loop that calls it stops taking
// connections (they wait in the listen backlog) instead of queueing them without bound.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace testfleet::aggregator {

class BoundedThreadPool {
 public:
  explicit BoundedThreadPool(size_t max_threads);
  ~BoundedThreadPool();  // stop() and join()
  BoundedThreadPool(const BoundedThreadPool&) = delete;
  BoundedThreadPool& operator=(const BoundedThreadPool&) = delete;

  // Runs task on a pool thread, waiting for one to be free. After stop(), runs it on the caller's thread instead
  // (the server's tasks then only close their connection).
  void enqueue(std::function<void()> task);
  // Wakes a waiting enqueue(); threads finish the tasks they have, then end. Any thread may call it.
  void stop();
  // Waits for every thread to end (call after stop()). Not from a pool thread.
  void join();
  size_t threads() const;

 private:
  void serve();

  const size_t max_threads_;
  mutable std::mutex mu_;               // guards everything below
  std::condition_variable task_ready_;  // a task was queued, or stopping
  std::condition_variable slot_free_;   // a thread became idle, or stopping
  std::deque<std::function<void()>> tasks_;
  size_t busy_ = 0;  // tasks queued or running; never above max_threads_
  size_t idle_ = 0;  // threads waiting for a task; busy_ + idle_ == threads_.size()
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace testfleet::aggregator
