// The seam where jobs enter the worker's loop: a job source hands out records to run, one at a time per partition,
// and learns when each ended. BufferedJobSource is the Kafka one (over a RecordConsumer); unit tests use it over a
// fake consumer. All calls come from the loop's one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/kafka/kafka.h"

namespace testfleet::worker {

// A record handed out by the source. Until the loop reports it finished, its partition hands out nothing else,
// so offsets are committed in order.
struct JobLease {
  enum class Kind {
    kRun,        // a job record: run it (or dead-letter it if it is not a job), then commit its offset
    kMoveToEnd,  // a retry record that is not due yet and blocks due ones: write it again at its partition's end
                 // and commit its offset in the same transaction
  };
  Kind kind = Kind::kRun;
  kafka::Message record;
  uint64_t token = 0;
  std::shared_ptr<std::atomic<bool>> cancel;  // set by the source when the record's partition is revoked
  std::string member_id;                      // this worker's id in the group when the lease was made
};

// How a lease ended.
enum class LeaseEnd {
  kConsumed,    // its record's offset was committed
  kHandedBack,  // nothing was committed: the record runs again first, after a short pause of its partition
  kRefused,     // a kMoveToEnd whose write was refused for good: the record stays where it is and runs when due
};

class JobSource {
 public:
  virtual ~JobSource() = default;
  // Fetches records for up to `wait` (rebalances happen in here) and applies back-pressure.
  virtual void poll(std::chrono::milliseconds wait) = 0;
  // The next record to start, when one is runnable now.
  virtual std::optional<JobLease> next() = 0;
  // A lease ended. A record handed back runs again first if its partition is still ours and the source is not
  // draining; its partition hands out nothing for a short while, so a commit that keeps failing neither spins the
  // loop nor holds back other partitions. Leases of revoked partitions are ignored.
  virtual void finished(const kafka::TopicPartition& tp, uint64_t token, LeaseEnd end) = 0;
  // Start nothing new: fetching stops; records handed back are left for the partition's next owner.
  virtual void drain() = 0;
  // Leaves the group.
  virtual void close() = 0;
};
using JobSourcePtr = std::unique_ptr<JobSource>;

}  // namespace testfleet::worker
