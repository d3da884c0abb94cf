// Reports every job to the worker's status server (busy slots, jobs by verdict, durations) around another executor.
#pragma once

#include "worker/http/status_server.h"
#include "worker/job_executor.h"

namespace testfleet::worker {

class MeteredJobExecutor : public JobExecutor {
 public:
  MeteredJobExecutor(JobExecutor& inner, StatusServer& status) : inner_(inner), status_(status) {}
  v1::Result run(const v1::Job& job, const std::atomic<bool>& cancel) override {
    status_.jobStarted();
    v1::Result r = inner_.run(job, cancel);
    status_.jobFinished(r);
    return r;
  }

 private:
  JobExecutor& inner_;
  StatusServer& status_;
};

}  // namespace testfleet::worker
