// Turns SIGTERM/SIGINT into calls on a dedicated thread (no work in a signal handler).
// Construct it in main before starting any other thread, so every thread inherits the blocked mask.
#pragma once

#include <functional>
#include <thread>

namespace testfleet {

class SignalWatcher {
 public:
  // on_signal(n) is called on the watcher's thread for the n-th SIGTERM or SIGINT (1, 2, …).
  explicit SignalWatcher(std::function<void(int)> on_signal);
  ~SignalWatcher();  // stops and joins the thread
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  std::function<void(int)> on_signal_;
  std::thread thread_;
};

}  // namespace testfleet
