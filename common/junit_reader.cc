#include "common/junit_reader.h"

#include <pugixml.hpp>

#include <cmath>
#include <cstdlib>
#include <functional>
#include <string_view>

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
  } else if (auto e = node.child("error")) {
    tc.set_status(v1::FAILED);
    tc.set_errored(true);
    describe(e, "error: ");
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
