#include "aggregator/reports/junit_report.h"

#include <pugixml.hpp>

#include <sstream>

#include "aggregator/reports/markup.h"
#include "common/verdict.h"

namespace testfleet::aggregator {
namespace {

struct Counts {
  int tests = 0, failures = 0, errors = 0, skipped = 0;
  double seconds = 0;
  void add(v1::Verdict v, double s, bool errored) {
    ++tests;
    seconds += s;
    if (v == v1::FAILED && !errored)
      ++failures;
    else if (v == v1::SKIPPED)
      ++skipped;
    else if (isFailing(v))
      ++errors;
  }
  void write(pugi::xml_node n) const {
    n.append_attribute("tests") = tests;
    n.append_attribute("failures") = failures;
    n.append_attribute("errors") = errors;
    n.append_attribute("skipped") = skipped;
    n.append_attribute("time") = seconds;
  }
};

}  // namespace

std::string junitReport(const RunInfo& run, const std::vector<v1::Result>& results) {
  pugi::xml_document doc;
  auto decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  pugi::xml_node root = doc.append_child("testsuites");
  root.append_attribute("name") = xmlCharacters(run.manifest.suite_name()).c_str();
  Counts all;
  for (const auto& r : results) {
    pugi::xml_node suite = root.append_child("testsuite");
    suite.append_attribute("name") = xmlCharacters(r.name()).c_str();
    suite.append_attribute("hostname") = xmlCharacters(r.worker_id()).c_str();
    Counts counts;
    for (const auto& c : r.cases()) {
      double s = c.duration_ms() / 1000.0;
      counts.add(c.status(), s, c.errored());
      all.add(c.status(), s, c.errored());
      pugi::xml_node tc = suite.append_child("testcase");
      tc.append_attribute("name") = xmlCharacters(c.name()).c_str();
      tc.append_attribute("classname") = xmlCharacters(c.classname()).c_str();
      tc.append_attribute("time") = s;
      if (c.status() == v1::PASSED) continue;
      if (c.status() == v1::FLAKY) {
        // Passed in the end; the earlier failure is kept the way Maven Surefire reports reruns.
        pugi::xml_node flaky = tc.append_child("flakyFailure");
        flaky.append_attribute("message") = xmlCharacters(c.message()).c_str();
        if (!c.details().empty()) flaky.text() = xmlCharacters(c.details()).c_str();
        continue;
      }
      const bool failure = c.status() == v1::FAILED && !c.errored();
      const char* element = failure ? "failure" : c.status() == v1::SKIPPED ? "skipped" : "error";
      pugi::xml_node detail = tc.append_child(element);
      detail.append_attribute("message") = xmlCharacters(c.message()).c_str();
      if (c.status() != v1::FAILED && c.status() != v1::SKIPPED) {
        detail.append_attribute("type") = std::string(verdictName(c.status())).c_str();
      }
      if (!c.details().empty()) detail.text() = xmlCharacters(c.details()).c_str();
    }
    counts.write(suite);
    if (!r.stdout_tail().empty()) suite.append_child("system-out").text() = xmlCharacters(r.stdout_tail()).c_str();
    if (!r.stderr_tail().empty()) suite.append_child("system-err").text() = xmlCharacters(r.stderr_tail()).c_str();
  }
  all.write(root);
  std::ostringstream out;
  doc.save(out, "  ");
  return out.str();
}

}  // namespace testfleet::aggregator
