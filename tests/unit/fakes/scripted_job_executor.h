// A hand-written JobExecutor for unit tests of the job loop: runs a scripted behaviour per job and counts runs.
#pragma once

#include <atomic>
#include <functional>

#include "worker/job_executor.h"
#include "worker/result_builder.h"

namespace testfleet::testing {

// A final result of `verdict` for the job, with the header a worker writes (worker::resultFor).
inline v1::Result resultOf(const v1::Job& job, v1::Verdict verdict, const std::string& error = "") {
  v1::Result r = worker::resultFor(job, "fake-worker");
  r.set_verdict(verdict);
  r.set_error(error);
  r.set_final(true);
  return r;
}

class ScriptedJobExecutor : public worker::JobExecutor {
 public:
  // Default: every job passes at once.
  std::function<v1::Result(const v1::Job&, const std::atomic<bool>&)> behave;
  std::atomic<int> runs{0};

  v1::Result run(const v1::Job& job, const std::atomic<bool>& cancel) override {
    ++runs;
    return behave ? behave(job, cancel) : resultOf(job, v1::PASSED);
  }
};

}  // namespace testfleet::testing
