// Makes every string of a job's result valid UTF-8 around another executor. A test may print any bytes (Latin-1,
// binary, a character cut short), and they reach the result's tails, case names, messages, listed ids and artifact
// paths; a proto3 record with invalid UTF-8 in a `string` field does not decode at the aggregator, so the job would
// never get a verdict. Invalid bytes become U+FFFD; nothing is dropped. Thread-safe as the inner executor is.
#pragma once

#include "common/proto_utf8.h"
#include "worker/job_executor.h"

namespace testfleet::worker {

class ValidUtf8JobExecutor : public JobExecutor {
 public:
  explicit ValidUtf8JobExecutor(JobExecutor& inner) : inner_(inner) {}
  v1::Result run(const v1::Job& job, const std::atomic<bool>& cancel) override {
    v1::Result r = inner_.run(job, cancel);
    makeStringsValidUtf8(r);
    return r;
  }

 private:
  JobExecutor& inner_;
};

}  // namespace testfleet::worker
