#include <doctest/doctest.h>

#include <pugixml.hpp>

#include "aggregator/reports/junit_report.h"
#include "aggregator/reports/markup.h"
#include "aggregator/reports/summary.h"
#include "aggregator/reports/text_reports.h"
#include "common/text.h"

using namespace testfleet;
using namespace testfleet::aggregator;

namespace {
// What an XML 1.0 parser accepts as a document's characters: valid UTF-8 of
// #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]. (pugixml does not check this.)
bool onlyXmlCharacters(const std::string& text) {
  if (validUtf8(text) != text) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return false;
    if (text.compare(i, 3, "\xef\xbf\xbe") == 0 || text.compare(i, 3, "\xef\xbf\xbf") == 0) return false;
  }
  return true;
}

// Output a test may produce that XML cannot carry: U+FFFF, U+FFFE, a control character, NUL, a Latin-1 byte.
const std::string kHostile = "a\xef\xbf\xbf b\xef\xbf\xbe c\x01 d" + std::string(1, '\0') + " caf\xe9 <&>\"'";

std::vector<v1::Result> hostileResults() {
  v1::Result r;
  r.set_name("job " + kHostile);
  r.set_worker_id("w" + kHostile);
  r.set_verdict(v1::FAILED);
  r.set_stdout_tail("out " + kHostile);
  r.set_stderr_tail("err " + kHostile);
  for (v1::Verdict v : {v1::FAILED, v1::FLAKY, v1::SKIPPED, v1::CRASHED, v1::PASSED}) {
    v1::TestCase* c = r.add_cases();
    c->set_name("name " + kHostile);
    c->set_classname("class " + kHostile);
    c->set_status(v);
    c->set_message("message " + kHostile);
    c->set_details("details " + kHostile);
  }
  return {r};
}

RunInfo hostileRun() {
  RunInfo info;
  info.manifest.set_suite_name("suite " + kHostile);
  info.manifest.set_run_id("run");
  info.manifest.set_expected_jobs(1);
  (*info.manifest.mutable_labels())["branch"] = kHostile;
  info.completed_at_ms = 2000;
  return info;
}
}  // namespace

TEST_CASE("the JUnit report is well-formed XML whatever the tests printed") {
  const std::string xml = junitReport(hostileRun(), hostileResults());
  CHECK(onlyXmlCharacters(xml));
  pugi::xml_document doc;
  REQUIRE(doc.load_string(xml.c_str()));
  pugi::xml_node tc = doc.child("testsuites").child("testsuite").child("testcase");
  // Nothing is dropped: forbidden characters are replaced or shown.
  CHECK(std::string(tc.child("failure").attribute("message").as_string()) ==
        "message a\xef\xbf\xbd b\xef\xbf\xbd c\\x01 d\\x00 caf\xef\xbf\xbd <&>\"'");
}

TEST_CASE("the HTML report escapes test text and holds only characters a document may") {
  const std::vector<v1::Result> results = hostileResults();
  const RunInfo run = hostileRun();
  std::vector<v1::Result> scripted = results;
  scripted[0].mutable_cases(0)->set_message("<script>alert(1)</script>");
  const std::string html = htmlReport(run, summarise(run, scripted, 0), scripted);
  CHECK(onlyXmlCharacters(html));
  CHECK(html.find("<script>") == std::string::npos);
  CHECK(html.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
}

TEST_CASE("the Markdown summary escapes HTML and keeps every table row one row") {
  std::vector<v1::Result> results = hostileResults();
  results[0].mutable_cases(0)->set_message("<script>alert(1)</script> | a pipe\nsecond line");
  results[0].mutable_cases(0)->set_name("test`with`ticks | and <b>");
  results[0].mutable_cases(0)->set_classname("");
  const RunInfo run = hostileRun();
  const std::string md = markdownReport(run, summarise(run, results, 0), results);
  CHECK(onlyXmlCharacters(md));
  CHECK(md.find("<script>") == std::string::npos);
  CHECK(md.find("&lt;script&gt;alert(1)&lt;/script&gt; \\| a pipe") != std::string::npos);
  CHECK(md.find("second line") == std::string::npos);  // a cell is the message's first line
  // A code span shows the name literally (HTML is not interpreted there), fenced by more backticks than it holds.
  CHECK(md.find("| ``test`with`ticks \\| and <b>`` |") != std::string::npos);
  // Each row of the failing-tests table has the header's four cells: every | inside a cell is escaped.
  const size_t table = md.find("| verdict | job | test | message |");
  REQUIRE(table != std::string::npos);
  const size_t row = md.find('\n', md.find('\n', table) + 1) + 1;
  const std::string first_row = md.substr(row, md.find('\n', row) - row);
  size_t unescaped_pipes = 0;
  for (size_t i = 0; i < first_row.size(); ++i) {
    unescaped_pipes += first_row[i] == '|' && (i == 0 || first_row[i - 1] != '\\');
  }
  CHECK(unescaped_pipes == 5);
}

TEST_CASE("the Markdown summary names the run and its labels, escaped") {
  const std::vector<v1::Result> results = hostileResults();
  RunInfo run = hostileRun();
  (*run.manifest.mutable_labels())["branch"] = "<img src=x onerror=alert(1)> | main";
  (*run.manifest.mutable_labels())["commit"] = "0123abc";
  const std::string md = markdownReport(run, summarise(run, results, 0), results);
  CHECK(md.find("\n\nrun `run` · branch: &lt;img src=x onerror=alert(1)&gt; \\| main · commit: 0123abc\n\n") !=
        std::string::npos);
  CHECK(md.find("<img") == std::string::npos);
}

TEST_CASE("markup functions") {
  CHECK(xmlCharacters("tab\tnl\ncr\r") == "tab\tnl\ncr\r");
  CHECK(xmlCharacters("\x1b[31mred") == "\\x1b[31mred");
  CHECK(xmlCharacters("\xef\xbf\xbf\xef\xbf\xbd\xf0\x9f\x98\x80") == "\xef\xbf\xbd\xef\xbf\xbd\xf0\x9f\x98\x80");
  CHECK(htmlText("<a href='x'>&</a>") == "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;");
  CHECK(markdownText("x", 200) == "x");
  CHECK(markdownText("\xc3\xa9\xc3\xa9\xc3\xa9", 3) == "\xc3\xa9\xe2\x80\xa6");  // cut between characters, marked
  CHECK(markdownCodeCell("plain") == "`plain`");
  CHECK(markdownCodeCell("`x`") == "`` `x` ``");
}
