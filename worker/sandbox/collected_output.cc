#include "worker/sandbox/collected_output.h"

#include <charconv>

namespace testfleet::worker {
namespace {

// Reads one space- or newline-terminated unsigned number from `s` at `pos`.
bool number(std::string_view s, size_t& pos, uint64_t& value) {
  const char* begin = s.data() + pos;
  const char* end = s.data() + s.size();
  auto [next, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || next == begin || next == end || (*next != ' ' && *next != '\n')) return false;
  pos += static_cast<size_t>(next - begin) + 1;
  return true;
}

}  // namespace

CollectedOutput parseCollectedOutput(std::string_view s, size_t max_records) {
  CollectedOutput out;
  size_t pos = 0;
  for (size_t records = 0; pos < s.size(); ++records) {
    if (records >= max_records) {
      out.problem = "more than " + std::to_string(max_records) + " records";
      return out;
    }
    const size_t space = s.find(' ', pos);
    if (space == std::string_view::npos || space - pos > 16) {
      out.problem = "a record without a kind";
      return out;
    }
    const std::string_view kind = s.substr(pos, space - pos);
    pos = space + 1;
    uint64_t path_len = 0, content_len = 0, size = 0, truncated = 0;
    if (!number(s, pos, path_len) || !number(s, pos, content_len) || !number(s, pos, size) ||
        !number(s, pos, truncated) || s[pos - 1] != '\n' || truncated > 1) {
      out.problem = "a malformed record header";
      return out;
    }
    if (path_len > 4096 || path_len > s.size() - pos || content_len > s.size() - pos - path_len) {
      out.problem = "a record longer than what arrived";
      return out;
    }
    std::string path(s.substr(pos, path_len));
    std::string content(s.substr(pos + path_len, content_len));
    pos += path_len + content_len;
    if (kind == "end") {
      out.complete = true;
      return out;
    } else if (kind == "report") {
      out.report = std::move(content);
      out.report_truncated = truncated == 1;
    } else if (kind == "artifact") {
      out.artifacts.push_back({std::move(path), std::move(content), size, truncated == 1});
    } else if (kind == "cut") {
      out.cut.push_back(std::move(path));
    } else {
      out.problem = "an unknown record kind";
      return out;
    }
  }
  return out;
}

}  // namespace testfleet::worker
