// submit --wait's answer to SIGINT/SIGTERM (main wires it to a SignalWatcher).
#pragma once

#include <chrono>
#include <mutex>
#include <string>

#include "common/kafka/kafka.h"

namespace testfleet::producer {

// submit --wait interrupted by SIGINT or SIGTERM: the run it published is cancelled, and the wait goes on until the
// workers have stopped its jobs (the run ends CANCELLED), so the reports are still written and the CLI exits 4. If
// the run has not ended `grace` after the cancel, or at a second signal, it exits 4 at once, without reports. Runs on
// the signal watcher's thread; the main thread may be anywhere in the wait.
class InterruptedWait {
 public:
  InterruptedWait(const kafka::ClientSettings& kafka, std::string control_topic, std::chrono::seconds grace)
      : kafka_(kafka), control_topic_(std::move(control_topic)), grace_(grace) {}
  // The run to cancel at a signal (none before it is published).
  void published(const std::string& run_id);
  // The n-th signal (1, 2, …).
  void interrupted(int n);

 private:
  const kafka::ClientSettings kafka_;
  const std::string control_topic_;
  const std::chrono::seconds grace_;
  std::mutex mu_;  // guards run_id_
  std::string run_id_;
};

}  // namespace testfleet::producer
