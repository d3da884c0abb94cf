#include "common/exception_text.h"

#include <cctype>

#include "common/text.h"

namespace testfleet {
namespace {

// "Name: message", "Name" alone or node's "Name [CODE]: message", where Name (dotted, e.g. yaml.scanner.ScannerError)
// ends in Error, Exception, Exit or Interrupt.
bool namesException(std::string_view line) {
  size_t end = 0;
  while (end < line.size() && (std::isalnum(static_cast<unsigned char>(line[end])) || line[end] == '_' ||
                               line[end] == '.' || line[end] == '$')) {
    ++end;
  }
  if (end == 0 || std::isdigit(static_cast<unsigned char>(line[0]))) return false;
  const std::string_view name = line.substr(0, end);
  if (!name.ends_with("Error") && !name.ends_with("Exception") && !name.ends_with("Exit") &&
      !name.ends_with("Interrupt")) {
    return false;
  }
  std::string_view rest = line.substr(end);
  if (rest.starts_with(" [")) {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return false;
    rest.remove_prefix(close + 1);
  }
  return rest.empty() || rest.starts_with(": ") || rest == ":";
}

}  // namespace

std::string exceptionText(std::string_view output) {
  std::string_view found;
  for (std::string_view line : splitLines(output)) {
    if (line.starts_with("E ")) {  // pytest's lines of the error itself
      line.remove_prefix(1);
      while (line.starts_with(' ')) line.remove_prefix(1);
    }
    if (namesException(line)) found = line;
  }
  return keepHeadAndTail(found, 1024);
}

std::string exceptionTextFor(std::string_view output, std::string_view file) {
  if (file.empty()) return "";
  size_t start = 0;
  while (start < output.size()) {
    size_t end = output.find("\nNode.js v", start);
    if (end == std::string_view::npos) end = output.size();
    const std::string_view print = output.substr(start, end - start);
    if (print.find(file) != std::string_view::npos) {
      if (std::string text = exceptionText(print); !text.empty()) return text;
    }
    start = end + 1;
  }
  return "";
}

}  // namespace testfleet
