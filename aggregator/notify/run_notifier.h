// The seam between ingest and notifications: ingest says which runs completed, a notifier tells the world.
#pragma once

#include <memory>
#include <string>

namespace testfleet::aggregator {

class RunNotifier {
 public:
  virtual ~RunNotifier() = default;
  // Called on the ingest thread for every run a stored batch completed (once per run). Returns at once: whatever
  // is sent is sent on the notifier's own thread, so a slow receiver never holds up ingest.
  virtual void runCompleted(const std::string& run_id) = 0;
};

using RunNotifierPtr = std::unique_ptr<RunNotifier>;

}  // namespace testfleet::aggregator
