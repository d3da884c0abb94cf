// The records that carry a job's result to the results topic.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/kafka/kafka.h"
#include "testfleet/v1/testfleet.pb.h"

namespace testfleet::worker {

// Appends `result` to `records` for `topic`, keyed by its run id: one record, or its parts (splitResult in
// common/result_parts.h) when it is over max_record_bytes. The caller writes them all in the job's one transaction,
// so the aggregator sees all parts or none; the run-id key puts them on one partition, in order.
void appendResultRecords(std::vector<kafka::OutgoingRecord>& records, const std::string& topic,
                         const v1::Result& result, size_t max_record_bytes);

}  // namespace testfleet::worker
