// proto3 refuses to decode a record whose `string` fields are not valid UTF-8: the whole record is lost. A test may
// print any bytes, so every message built from its output goes through here before it is sent, and a reader can
// still recover one that was sent without.
#pragma once

#include <google/protobuf/message.h>

#include <cstddef>
#include <string>

namespace testfleet {

// Makes every `string` field of `message` valid UTF-8 (validUtf8 in common/text.h), in nested messages, repeated
// fields and maps too; `bytes` fields are left alone. Returns how many strings it changed.
size_t makeStringsValidUtf8(google::protobuf::Message& message);

// Parses `wire` into `message` although its `string` fields may hold invalid UTF-8 (which ParseFromString refuses),
// replacing those bytes as makeStringsValidUtf8 does. False when `wire` is not such a message for another reason.
bool parseMakingStringsValidUtf8(const std::string& wire, google::protobuf::Message& message);

}  // namespace testfleet
