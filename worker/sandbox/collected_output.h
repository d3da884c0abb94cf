// What the stage runner sends back from inside the sandbox over its collect pipe: the framework's report and the
// job's artifacts. The stream comes from a process the test shares a uid with, so it is parsed as untrusted bytes:
// sizes are checked against what actually arrived, paths are re-checked by the caller, and a malformed record
// ends the parse with a `problem` while everything before it is kept.
//
// Record: "<kind> <path bytes> <content bytes> <file size> <truncated 0|1>\n" + path + content, where kind is
// report | artifact | cut (an artifact left out for the budget) | end (the stream is complete).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace testfleet::worker {

struct CollectedFile {
  std::string path;
  std::string content;
  uint64_t size = 0;       // the file's whole size in the sandbox
  bool truncated = false;  // content is a prefix of it
};

struct CollectedOutput {
  std::optional<std::string> report;  // the framework's report, when it wrote one
  bool report_truncated = false;
  std::vector<CollectedFile> artifacts;
  std::vector<std::string> cut;  // artifacts left out because the budget was used up
  bool complete = false;         // the stream ended with its end record
  std::string problem;           // what was malformed, if anything
};

// Pure. At most `max_records` records are read (the stage runner sends at most 1000 artifacts).
CollectedOutput parseCollectedOutput(std::string_view stream, size_t max_records = 2100);

}  // namespace testfleet::worker
