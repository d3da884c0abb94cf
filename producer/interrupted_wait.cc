#include "producer/interrupted_wait.h"

#include <cstdlib>
#include <iostream>
#include <thread>

#include "common/run_cancels.h"
#include "producer/submit.h"

namespace testfleet::producer {

void InterruptedWait::published(const std::string& run_id) {
  std::lock_guard lock(mu_);
  run_id_ = run_id;
}

void InterruptedWait::interrupted(int n) {
  std::string run_id;
  {
    std::lock_guard lock(mu_);
    run_id = run_id_;
  }
  if (n >= 2 || run_id.empty()) {
    std::cerr << "testfleet: interrupted" << (run_id.empty() ? " before the run was published" : "") << "\n";
    std::_Exit(kCancelled);
  }
  std::cerr << "testfleet: interrupted: cancelling run " << run_id << "\n";
  try {
    sendRunCancel(kafka_, control_topic_, run_id, "submit --wait interrupted");
  } catch (const kafka::Error& e) {
    std::cerr << "testfleet: could not cancel run " << run_id << ": " << e.what() << "\n";
    std::_Exit(kInfrastructure);
  }
  std::cerr << "testfleet: run " << run_id << " cancelled; waiting up to " << grace_.count()
            << " s for the workers to stop its jobs, then writing the reports (a second signal exits at once)\n";
  std::thread([grace = grace_, run_id] {
    std::this_thread::sleep_for(grace);
    std::cerr << "testfleet: run " << run_id << " has not ended " << grace.count()
              << " s after its cancel; exiting without reports\n";
    std::_Exit(kCancelled);
  }).detach();
}

}  // namespace testfleet::producer
