#include "worker/result_records.h"

#include "common/result_parts.h"

namespace testfleet::worker {

void appendResultRecords(std::vector<kafka::OutgoingRecord>& records, const std::string& topic,
                         const v1::Result& result, size_t max_record_bytes) {
  for (const v1::Result& part : splitResult(result, max_record_bytes)) {
    records.push_back({topic, part.run_id(), part.SerializeAsString()});
  }
}

}  // namespace testfleet::worker
