// What the job loop tells whoever counts its work (the worker's metrics). Called from the loop's thread and from
// slot threads at once: implementations are thread-safe and do not block.
#pragma once

#include <cstdint>

#include "testfleet/v1/testfleet.pb.h"
#include "worker/outcome_router.h"

namespace testfleet::worker {

enum class DeadLetterReason {
  kGaveUp,      // ERROR with attempts exhausted
  kNotAJob,     // a record that does not decode as a job this worker runs
  kUnwritable,  // Kafka refused the job's records for good
};

class JobLoopEvents {
 public:
  virtual ~JobLoopEvents() = default;
  // A slot took a delivered job (not an in-place retry of it); now_ms: the wall clock then.
  virtual void delivered(const v1::Job& job, int64_t now_ms) = 0;
  // The router decided what an attempt turns into.
  virtual void routed(Route::Kind kind) = 0;
  // A dead letter is in a transaction (counted whether or not it commits); a kGiveUp route reports its own too.
  virtual void deadLettered(DeadLetterReason reason) = 0;
};

}  // namespace testfleet::worker
