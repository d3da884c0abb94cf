#include "aggregator/reports/junit_report.h"

#include <pugixml.hpp>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <sstream>

#include "aggregator/reports/markup.h"
#include "common/verdict.h"

namespace testfleet::aggregator {
namespace {

// Milliseconds as seconds with three decimals ("1.234"): what both schemas' SUREFIRE_TIME pattern allows.
std::string seconds(uint64_t ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%llu.%03llu", static_cast<unsigned long long>(ms / 1000),
                static_cast<unsigned long long>(ms % 1000));
  return text;
}

// ISO 8601 in UTC with milliseconds: "2026-01-01T00:00:00.123Z".
std::string isoTime(int64_t ms) {
  const std::time_t t = ms / 1000;
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[40];
  const size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(ms % 1000));
  return text;
}

struct Counts {
  int tests = 0, failures = 0, errors = 0, skipped = 0;
  uint64_t ms = 0;
  void add(const v1::TestCase& c) {
    ++tests;
    ms += c.duration_ms();
    if (c.status() == v1::FAILED && !c.errored())
      ++failures;
    else if (c.status() == v1::SKIPPED || c.status() == v1::CANCELLED)
      ++skipped;
    else if (isFailing(c.status()))
      ++errors;
  }
  // `skipped` only on <testsuite>: junit-10.xsd does not allow it on <testsuites>, Surefire's schema requires it on
  // <testsuite>.
  void write(pugi::xml_node n, bool with_skipped) const {
    n.append_attribute("tests") = tests;
    n.append_attribute("failures") = failures;
    n.append_attribute("errors") = errors;
    if (with_skipped) n.append_attribute("skipped") = skipped;
    n.append_attribute("time") = seconds(ms).c_str();
  }
};

void appendText(pugi::xml_node parent, const char* name, const std::string& text) {
  if (!text.empty()) parent.append_child(name).text() = xmlCharacters(text).c_str();
}

// The run's labels (sorted by name), then when the job started and where it ran: Surefire's schema has no
// testsuite@timestamp or @hostname, so they are properties here; then the environment it ran in, when it declared
// one (its hash and its packages, space-separated).
void writeProperties(pugi::xml_node suite, const RunInfo& run, const v1::Result& r) {
  std::vector<std::pair<std::string, std::string>> properties(run.manifest.labels().begin(),
                                                              run.manifest.labels().end());
  std::sort(properties.begin(), properties.end());
  if (r.started_at_ms() > 0) properties.emplace_back("timestamp", isoTime(r.started_at_ms()));
  if (!r.worker_id().empty()) properties.emplace_back("hostname", r.worker_id());
  if (r.has_environment()) {
    std::string packages;
    for (const auto& p : r.environment().packages()) packages += (packages.empty() ? "" : " ") + p;
    properties.emplace_back("environment", r.environment().sha256());
    properties.emplace_back("environment.packages", packages);
  }
  if (properties.empty()) return;
  pugi::xml_node list = suite.append_child("properties");
  for (const auto& [name, value] : properties) {
    pugi::xml_node p = list.append_child("property");
    p.append_attribute("name") = xmlCharacters(name).c_str();
    p.append_attribute("value") = xmlCharacters(value).c_str();
  }
}

// Whether the job's output tails belong to this case: it is the job's only case, or its verdict is the whole job's
// (TIMEOUT, OOM, CRASHED and ERROR come from the sandbox, never from a framework's report).
bool hasJobOutput(const v1::Result& r, const v1::TestCase& c) {
  return r.cases_size() == 1 || c.status() == v1::TIMEOUT || c.status() == v1::OOM || c.status() == v1::CRASHED ||
         c.status() == v1::ERROR;
}

// What a failure says, in its body (GitLab shows only the body): the message, the framework's details, where the
// test is, and the job's output tails when they are this case's.
std::string failureBody(const v1::Result& r, const v1::TestCase& c) {
  std::string body = c.message();
  auto add = [&](const std::string& part) {
    if (part.empty()) return;
    if (!body.empty() && body.back() != '\n') body += '\n';
    body += part;
  };
  if (c.details() != c.message()) add(c.details());
  if (!c.file().empty()) add("at " + c.file() + (c.line() > 0 ? ":" + std::to_string(c.line()) : ""));
  if (hasJobOutput(r, c)) {
    if (!r.stdout_tail().empty()) add("--- stdout (tail) ---\n" + r.stdout_tail());
    if (!r.stderr_tail().empty()) add("--- stderr (tail) ---\n" + r.stderr_tail());
  }
  return body;
}

// <failure>, <error>, <skipped> or (FLAKY) <flakyFailure>/<flakyError> for a case that did not simply pass. The
// shapes are what both schemas allow: `type` always on failures and errors (Surefire's requires it), never on
// <skipped> (Surefire's forbids it); a flaky failure's text in <stackTrace> (Surefire's requires it there).
void writeOutcome(pugi::xml_node tc, const v1::Result& r, const v1::TestCase& c) {
  const std::string type = !c.type().empty() ? c.type() : std::string(verdictName(c.status()));
  if (c.status() == v1::SKIPPED || c.status() == v1::CANCELLED) {  // JUnit has no "cancelled": a case not run
    pugi::xml_node skipped = tc.append_child("skipped");
    skipped.append_attribute("message") = xmlCharacters(c.message()).c_str();
    if (!c.details().empty()) skipped.text() = xmlCharacters(c.details()).c_str();
    return;
  }
  const char* element = c.status() == v1::FLAKY                    ? (c.errored() ? "flakyError" : "flakyFailure")
                        : c.status() == v1::FAILED && !c.errored() ? "failure"
                                                                   : "error";
  pugi::xml_node outcome = tc.append_child(element);
  outcome.append_attribute("message") = xmlCharacters(c.message()).c_str();
  outcome.append_attribute("type") = xmlCharacters(type).c_str();
  const std::string body = xmlCharacters(failureBody(r, c));
  if (c.status() == v1::FLAKY)
    outcome.append_child("stackTrace").text() = body.c_str();
  else if (!body.empty())
    outcome.text() = body.c_str();
}

void writeCase(pugi::xml_node suite, const v1::Result& r, const v1::TestCase& c) {
  pugi::xml_node tc = suite.append_child("testcase");
  tc.append_attribute("name") = xmlCharacters(c.name()).c_str();
  tc.append_attribute("classname") = xmlCharacters(c.classname()).c_str();
  tc.append_attribute("time") = seconds(c.duration_ms()).c_str();
  if (c.status() != v1::PASSED) writeOutcome(tc, r, c);
  // The case's own output when the framework reported it, else the job's when it is this case's.
  const bool job_output = hasJobOutput(r, c);
  appendText(tc, "system-out", c.system_out().empty() && job_output ? r.stdout_tail() : c.system_out());
  appendText(tc, "system-err", c.system_err().empty() && job_output ? r.stderr_tail() : c.system_err());
}

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
    writeProperties(suite, run, r);
    Counts counts;
    for (const auto& c : r.cases()) {
      counts.add(c);
      all.add(c);
      writeCase(suite, r, c);
    }
    counts.write(suite, true);
  }
  all.write(root, false);
  std::ostringstream out;
  doc.save(out, "  ");
  return out.str();
}

}  // namespace testfleet::aggregator
