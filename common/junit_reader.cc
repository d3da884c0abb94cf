#include "common/junit_reader.h"

#include <pugixml.hpp>

#include <cmath>
#include <cstdlib>
#include <functional>
#include <string_view>

#include "common/exception_text.h"
#include "common/text.h"

namespace testfleet {
namespace {

uint32_t secondsToMillis(const char* text) {
  char* end = nullptr;
  double s = std::strtod(text, &end);
  if (end == text || !std::isfinite(s) || s < 0) return 0;
  if (s > 4e6) s = 4e6;  // clamp nonsense to ~46 days
  return static_cast<uint32_t>(std::llround(s * 1000.0));
}

// node --test reports a file whose process ended outside any test (it threw while loading, a require failed) as a
// failing case named after the file, of type testCodeFailure, whose text gives the process's exit code:
// "[Error: test failed] { code: 'ERR_TEST_FAILURE', failureType: 'testCodeFailure', …, exitCode: 1, … }".
// That exit code, or -1 for any other failure.
int fileExitCode(const pugi::xml_node& testcase, const pugi::xml_node& failure) {
  if (std::string_view(failure.attribute("type").as_string()) != "testCodeFailure") return -1;
  const std::string_view text = failure.text().as_string();
  const size_t at = text.find("exitCode: ");
  if (at == std::string_view::npos || text.find("ERR_TEST_FAILURE") == std::string_view::npos) return -1;
  const std::string_view name = testcase.attribute("name").as_string();
  if (name.find('/') == std::string_view::npos) return -1;  // a test, not a file
  const char* digits = text.data() + at + 10;
  char* end = nullptr;
  const long code = std::strtol(digits, &end, 10);
  return end == digits || code < 0 ? -1 : static_cast<int>(code);
}

v1::TestCase readCase(const pugi::xml_node& node, const JunitLimits& limits) {
  v1::TestCase tc;
  tc.set_name(keepHeadAndTail(node.attribute("name").as_string(), 1024));
  tc.set_classname(keepHeadAndTail(node.attribute("classname").as_string(), 1024));
  tc.set_duration_ms(secondsToMillis(node.attribute("time").as_string("0")));
  tc.set_status(v1::PASSED);
  tc.set_file(keepHeadAndTail(node.attribute("file").as_string(), 1024));  // pytest's xunit1, GoogleTest
  tc.set_line(node.attribute("line").as_uint());
  // A case that did not pass keeps its message, details, type and own output; a passing one only its name and time.
  auto describe = [&](const pugi::xml_node& child, const std::string& prefix) {
    tc.set_message(keepHeadAndTail(prefix + child.attribute("message").as_string(), limits.max_message_bytes));
    tc.set_details(keepHeadAndTail(child.text().as_string(), limits.max_message_bytes * 4));
    tc.set_type(keepHeadAndTail(child.attribute("type").as_string(), 256));
    tc.set_system_out(keepHeadAndTail(node.child("system-out").text().as_string(), limits.max_message_bytes * 4));
    tc.set_system_err(keepHeadAndTail(node.child("system-err").text().as_string(), limits.max_message_bytes * 4));
  };
  if (auto f = node.child("failure")) {
    tc.set_status(v1::FAILED);
    describe(f, "");
    if (const int code = fileExitCode(node, f); code >= 0) {
      tc.set_errored(true);
      tc.set_message("error: the test file failed to load (exit code " + std::to_string(code) + ")");
    }
  } else if (auto e = node.child("error")) {
    tc.set_status(v1::FAILED);
    tc.set_errored(true);
    describe(e, "error: ");
    // pytest's "collection failure" names no exception; its traceback ends with the one that stopped the import.
    if (const std::string cause = exceptionText(e.text().as_string());
        !cause.empty() && tc.message().find(cause) == std::string::npos) {
      tc.set_message(keepHeadAndTail(tc.message() + ": " + cause, limits.max_message_bytes));
    }
  } else if (auto s = node.child("skipped")) {
    tc.set_status(v1::SKIPPED);
    describe(s, "");
  } else if (const std::string_view status = node.attribute("status").as_string();
             status == "notrun" || status == "disabled" ||
             std::string_view(node.attribute("result").as_string()) == "suppressed") {
    tc.set_status(v1::SKIPPED);  // GoogleTest's DISABLED_ tests, CTest's disabled and not-run ones
    tc.set_message("disabled");
  }
  return tc;
}

}  // namespace

JunitParse readJunit(std::string_view xml, const JunitLimits& limits) {
  JunitParse out;
  if (xml.size() > limits.max_bytes) {
    out.error = "JUnit report is " + std::to_string(xml.size()) + " bytes, over the limit of " +
                std::to_string(limits.max_bytes);
    return out;
  }
  pugi::xml_document doc;
  // The encoding the report declares (or its byte-order mark) is honoured, so an ISO-8859-1 report reads right;
  // pugixml converts everything to UTF-8.
  pugi::xml_parse_result parsed = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_auto);
  if (!parsed) {
    out.error = std::string("JUnit report is not valid XML: ") + parsed.description() + " at byte " +
                std::to_string(parsed.offset);
    return out;
  }
  pugi::xml_node root = doc.document_element();
  std::string root_name = root.name();
  if (root_name != "testsuites" && root_name != "testsuite") {
    out.error = "JUnit report root is <" + root_name + ">, expected <testsuites> or <testsuite>";
    return out;
  }
  size_t dropped = 0;
  std::function<void(const pugi::xml_node&, int)> walk = [&](const pugi::xml_node& suite, int depth) {
    if (depth > 32) return;  // hostile nesting
    for (const pugi::xml_node& child : suite.children()) {
      std::string_view name = child.name();
      if (name == "testcase") {
        if (out.cases.size() < limits.max_cases) {
          out.cases.push_back(readCase(child, limits));
        } else {
          ++dropped;
        }
      } else if (name == "testsuite") {
        walk(child, depth + 1);
      }
    }
  };
  walk(root, 0);
  if (dropped)
    out.error =
        "JUnit report has more than " + std::to_string(limits.max_cases) + " cases; dropped " + std::to_string(dropped);
  return out;
}

}  // namespace testfleet
