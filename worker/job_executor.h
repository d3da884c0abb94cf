// The seam between the job loop and what runs a job: JobRunner does the work, decorators add behaviour
// (MeteredJobExecutor counts, ValidUtf8JobExecutor makes the result's text valid UTF-8). Implementations are
// thread-safe: slot threads call run() concurrently.
#pragma once

#include <atomic>
#include <memory>

#include "testfleet/v1/testfleet.pb.h"

namespace testfleet::worker {

class JobExecutor {
 public:
  virtual ~JobExecutor() = default;
  // Never throws for the job's sake: a job that cannot run gets an ERROR or FAILED result.
  virtual v1::Result run(const v1::Job& job, const std::atomic<bool>& cancel) = 0;
};

}  // namespace testfleet::worker
