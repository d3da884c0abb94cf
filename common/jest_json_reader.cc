#include "common/jest_json_reader.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

#include "common/text.h"

namespace testfleet {
namespace {

// Jest reports absolute paths; inside the sandbox the workspace is /work.
std::string relativeToWorkspace(std::string path) {
  constexpr std::string_view kWorkspace = "/work/";
  if (path.starts_with(kWorkspace)) path.erase(0, kWorkspace.size());
  return path;
}

std::string firstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

// "  ● Test suite failed to run\n\n    Cannot find module 'x' from 'b.test.js'\n…": the first line after jest's
// heading.
std::string whyNotRun(const std::string& message) {
  for (std::string_view line : splitLines(message)) {
    line.remove_prefix(std::min(line.size(), line.find_first_not_of(" \t")));
    if (!line.empty() && line.find("Test suite failed to run") == std::string_view::npos) return std::string(line);
  }
  return "";
}

std::string stringOr(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

JunitParse readJestJson(std::string_view text, const JunitLimits& limits) {
  JunitParse out;
  if (text.size() > limits.max_bytes) {
    out.error = "jest report is " + std::to_string(text.size()) + " bytes, over the limit of " +
                std::to_string(limits.max_bytes);
    return out;
  }
  auto doc = nlohmann::json::parse(validUtf8(text), nullptr, false);
  if (!doc.is_object() || !doc.contains("testResults") || !doc["testResults"].is_array()) {
    out.error = "jest report is not jest's JSON (no testResults list)";
    return out;
  }
  for (const auto& file : doc["testResults"]) {
    if (!file.is_object()) continue;
    const std::string path = keepHeadAndTail(relativeToWorkspace(stringOr(file, "name")), 1024);
    const auto assertions = file.value("assertionResults", nlohmann::json::array());
    if ((!assertions.is_array() || assertions.empty()) && stringOr(file, "status") == "failed") {
      v1::TestCase c;
      c.set_classname(path);
      c.set_name(path);
      c.set_status(v1::FAILED);
      c.set_errored(true);
      const std::string message = stringOr(file, "message");
      c.set_message(
          keepHeadAndTail("error: the test file failed to run: " + whyNotRun(message), limits.max_message_bytes));
      c.set_details(keepHeadAndTail(message, limits.max_message_bytes * 4));
      out.cases.push_back(std::move(c));
      continue;
    }
    if (!assertions.is_array()) continue;
    for (const auto& a : assertions) {
      if (!a.is_object()) continue;
      if (out.cases.size() >= limits.max_cases) {
        out.error = "jest report has more than " + std::to_string(limits.max_cases) + " tests; the rest were dropped";
        return out;
      }
      v1::TestCase c;
      c.set_classname(path);
      c.set_name(keepHeadAndTail(stringOr(a, "fullName"), 1024));
      const std::string status = stringOr(a, "status");
      c.set_status(status == "passed" ? v1::PASSED : status == "failed" ? v1::FAILED : v1::SKIPPED);
      if (auto d = a.find("duration"); d != a.end() && d->is_number()) {
        double ms = d->get<double>();
        if (std::isfinite(ms) && ms > 0) c.set_duration_ms(static_cast<uint32_t>(std::min(ms, 4e9)));
      }
      if (status == "failed") {
        std::string all;
        for (const auto& m : a.value("failureMessages", nlohmann::json::array())) {
          if (m.is_string() && all.size() < limits.max_message_bytes * 4) all += m.get<std::string>() + "\n";
        }
        c.set_message(keepHeadAndTail(firstLine(all), limits.max_message_bytes));
        c.set_details(keepHeadAndTail(all, limits.max_message_bytes * 4));
      }
      out.cases.push_back(std::move(c));
    }
  }
  return out;
}

}  // namespace testfleet
