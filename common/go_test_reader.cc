#include "common/go_test_reader.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <map>
#include <set>

#include "common/text.h"

namespace testfleet {
namespace {

// The first output line that says something: go prints "=== RUN", "=== PAUSE" and "--- FAIL" markers around it.
std::string firstTellingLine(const std::string& text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (!line.empty() && !line.starts_with("=== ") && !line.starts_with("--- ")) return std::string(line);
    start = end + 1;
  }
  return text.substr(0, text.find('\n'));
}

}  // namespace

JunitParse readGoTestJson(std::string_view stream, const JunitLimits& limits) {
  JunitParse out;
  if (stream.size() > limits.max_bytes) {
    out.error = "go test report is " + std::to_string(stream.size()) + " bytes, over the limit of " +
                std::to_string(limits.max_bytes);
    return out;
  }
  std::map<std::pair<std::string, std::string>, std::string> output;  // (package, test) → its output
  std::set<std::string> packages_with_tests, failed_packages;
  size_t start = 0;
  while (start < stream.size()) {
    size_t end = stream.find('\n', start);
    if (end == std::string_view::npos) end = stream.size();
    auto ev = nlohmann::json::parse(validUtf8(stream.substr(start, end - start)), nullptr, false);
    start = end + 1;
    if (!ev.is_object()) continue;
    const std::string action = ev.value("Action", ""), package = ev.value("Package", ""), test = ev.value("Test", "");
    if (action == "output") {
      std::string& text = output[{package, test}];
      if (text.size() < limits.max_message_bytes * 4) text += ev.value("Output", "");
      continue;
    }
    if (action != "pass" && action != "fail" && action != "skip") continue;
    if (test.empty()) {
      if (action == "fail") failed_packages.insert(package);
      continue;
    }
    packages_with_tests.insert(package);
    if (out.cases.size() >= limits.max_cases) continue;
    v1::TestCase c;
    c.set_name(keepHeadAndTail(test, 1024));
    c.set_classname(keepHeadAndTail(package, 1024));
    double elapsed = ev.value("Elapsed", 0.0);
    c.set_duration_ms(std::isfinite(elapsed) && elapsed > 0 ? static_cast<uint32_t>(std::min(elapsed, 4e6) * 1000) : 0);
    c.set_status(action == "pass" ? v1::PASSED : action == "skip" ? v1::SKIPPED : v1::FAILED);
    if (action != "pass") {
      const std::string& text = output[{package, test}];
      c.set_message(keepHeadAndTail(firstTellingLine(text), limits.max_message_bytes));
      c.set_details(keepHeadAndTail(text, limits.max_message_bytes * 4));
    }
    out.cases.push_back(std::move(c));
  }
  for (const auto& package : failed_packages) {
    if (packages_with_tests.count(package)) continue;
    v1::TestCase c;
    c.set_name(package);
    c.set_classname(package);
    c.set_status(v1::FAILED);
    c.set_errored(true);
    c.set_message("the package failed without running tests (build error?)");
    c.set_details(keepHeadAndTail(output[{package, ""}], limits.max_message_bytes * 4));
    out.cases.push_back(std::move(c));
  }
  return out;
}

}  // namespace testfleet
