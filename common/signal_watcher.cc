#include "common/signal_watcher.h"

#include <pthread.h>
#include <signal.h>

namespace testfleet {
namespace {
sigset_t watchedSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGUSR1);  // internal: wakes the thread to exit
  return set;
}
}  // namespace

SignalWatcher::SignalWatcher(std::function<void(int)> on_signal) : on_signal_(std::move(on_signal)) {
  sigset_t set = watchedSet();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  thread_ = std::thread([this] {
    sigset_t watched = watchedSet();
    int count = 0;
    for (;;) {
      int sig = 0;
      if (sigwait(&watched, &sig) != 0) continue;
      if (sig == SIGUSR1) return;
      on_signal_(++count);
    }
  });
}

SignalWatcher::~SignalWatcher() {
  pthread_kill(thread_.native_handle(), SIGUSR1);
  thread_.join();
}

}  // namespace testfleet
