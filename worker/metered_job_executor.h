// Reports every attempt to the worker's metrics (busy slots, attempts by verdict, durations) around another executor.
#pragma once

#include "worker/job_executor.h"
#include "worker/worker_metrics.h"

namespace testfleet::worker {

class MeteredJobExecutor : public JobExecutor {
 public:
  MeteredJobExecutor(JobExecutor& inner, WorkerMetrics& metrics) : inner_(inner), metrics_(metrics) {}
  v1::Result run(const v1::Job& job, const std::atomic<bool>& cancel) override {
    metrics_.jobStarted();
    v1::Result r = inner_.run(job, cancel);
    metrics_.jobFinished(r);
    return r;
  }

 private:
  JobExecutor& inner_;
  WorkerMetrics& metrics_;
};

}  // namespace testfleet::worker
