// `testfleet dlq list` and `testfleet dlq replay`: what went to the dead-letter topic, and sending it back.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "common/kafka/kafka.h"
#include "common/kafka/topics.h"
#include "testfleet/v1/testfleet.pb.h"

namespace testfleet::producer {

struct DeadLetterEntry {
  int32_t partition = 0;
  int64_t offset = 0;
  v1::DeadLetter letter;
  bool decoded = true;
};

// Every record of the dead-letter topic, oldest first.
std::vector<DeadLetterEntry> readDeadLetters(const kafka::ClientSettings& kafka, const kafka::Topics& topics);

void printDeadLetters(const std::vector<DeadLetterEntry>& entries, bool json, std::ostream& out);

// Sends the payloads of the chosen entries ("PARTITION:OFFSET" or "OFFSET" for partition 0) back to where they came
// from; a job comes back as a fresh attempt on the jobs topic. Returns how many were replayed; says why for others.
int replayDeadLetters(const kafka::ClientSettings& kafka, const kafka::Topics& topics,
                      const std::vector<std::string>& which, std::ostream& out, std::ostream& err);

}  // namespace testfleet::producer
