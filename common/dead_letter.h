// Building a dead-letter record: why a record could not be processed, where it came from, and its bytes.
#pragma once

#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/kafka/kafka.h"
#include "common/proto_utf8.h"
#include "common/text.h"
#include "testfleet/v1/testfleet.pb.h"

namespace testfleet {

// payload is kept up to 1 MiB and key up to 1 KiB: a dead letter must itself fit in a message. Its text (reason,
// key) is made valid UTF-8 so that the dead letter itself decodes, whatever bytes the record had.
inline v1::DeadLetter makeDeadLetter(const std::string& reason, const kafka::TopicPartition& from, int64_t offset,
                                     std::string_view key, std::string_view payload, const std::string& service) {
  v1::DeadLetter dl;
  dl.set_schema_version(1);
  dl.set_reason(reason);
  dl.set_source_topic(from.topic);
  dl.set_source_partition(from.partition);
  dl.set_source_offset(offset);
  dl.set_payload(std::string(payload.substr(0, 1 << 20)));
  dl.set_key(std::string(utf8Prefix(key, 1024)));
  dl.set_at_ms(nowMillis());
  dl.set_service(service);
  makeStringsValidUtf8(dl);
  return dl;
}

}  // namespace testfleet
