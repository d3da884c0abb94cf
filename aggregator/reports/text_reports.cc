#include "aggregator/reports/text_reports.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

#include "aggregator/reports/case_name.h"
#include "aggregator/reports/markup.h"
#include "common/text.h"
#include "common/verdict.h"

namespace testfleet::aggregator {
namespace {

struct CaseRef {
  const v1::Result* job;
  const v1::TestCase* tc;
};

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string seconds(double ms) { return fmt("%.2f s", ms / 1000.0); }

std::vector<CaseRef> casesWhere(const std::vector<v1::Result>& results, bool (*want)(v1::Verdict)) {
  std::vector<CaseRef> out;
  for (const auto& r : results) {
    for (const auto& c : r.cases()) {
      if (want(c.status())) out.push_back({&r, &c});
    }
  }
  return out;
}

bool failing(v1::Verdict v) { return isFailing(v); }

// "failed", or "failed (error)" for a test that failed by an unexpected error rather than an assertion.
std::string verdictLabel(const v1::TestCase& c) {
  return std::string(verdictName(c.status())) + (c.errored() ? " (error)" : "");
}
bool flaky(v1::Verdict v) { return v == v1::FLAKY; }

std::vector<CaseRef> slowest(const std::vector<v1::Result>& results, size_t n) {
  std::vector<CaseRef> all = casesWhere(results, [](v1::Verdict) { return true; });
  std::sort(all.begin(), all.end(),
            [](const CaseRef& a, const CaseRef& b) { return a.tc->duration_ms() > b.tc->duration_ms(); });
  if (all.size() > n) all.resize(n);
  return all;
}

// Duration chart: the longest jobs' wall time as horizontal bars (inline SVG, no scripts).
void writeDurationChart(std::ostream& h, const std::vector<v1::Result>& results) {
  std::vector<const v1::Result*> jobs;
  jobs.reserve(results.size());
  for (const auto& r : results) jobs.push_back(&r);
  std::sort(jobs.begin(), jobs.end(), [](auto* a, auto* b) { return a->usage().wall_ms() > b->usage().wall_ms(); });
  if (jobs.size() > 25) jobs.resize(25);
  const double longest = jobs.empty() ? 1.0 : std::max(1u, jobs.front()->usage().wall_ms());
  h << "<h2>Job durations</h2>\n<svg id=\"chart\" width=\"100%\" viewBox=\"0 0 800 " << jobs.size() * 20 + 10
    << "\" role=\"img\" aria-label=\"job durations\">\n";
  for (size_t i = 0; i < jobs.size(); ++i) {
    const double w = 500.0 * jobs[i]->usage().wall_ms() / longest;
    h << "<text class=\"barlabel\" x=\"0\" y=\"" << i * 20 + 14 << "\">"
      << htmlText(keepHeadAndTail(jobs[i]->name(), 40)) << "</text><rect class=\"bar\" x=\"260\" y=\"" << i * 20 + 3
      << "\" width=\"" << std::max(1.0, w) << "\" height=\"14\"/><text class=\"barlabel\" x=\"" << 265 + w << "\" y=\""
      << i * 20 + 14 << "\">" << seconds(jobs[i]->usage().wall_ms()) << "</text>\n";
  }
  h << "</svg>\n";
}

}  // namespace

std::string markdownReport(const RunInfo& run, const Summary& s, const std::vector<v1::Result>& results) {
  std::ostringstream md;
  md << "## "
     << (s.cancelled_run ? "⏹️"
         : s.passed_run  ? "✅"
                         : "❌")
     << " testfleet: " << markdownText(run.manifest.suite_name()) << (s.cancelled_run ? " (cancelled)" : "") << "\n\n";
  md << "run " << markdownCodeCell(run.manifest.run_id());
  // Sorted: a protobuf map's order is unspecified (and varies from run to run).
  const std::map<std::string, std::string> labels(run.manifest.labels().begin(), run.manifest.labels().end());
  for (const auto& [k, v] : labels) md << " · " << markdownText(k) << ": " << markdownText(v);
  md << "\n\n";
  md << "| tests | passed | failed | skipped | flaky | timeout | oom | crashed | error | success | wall |\n"
     << "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
     << "| " << s.total << " | " << s.passed << " | " << s.failed << " | " << s.skipped << " | " << s.flaky << " | "
     << s.timeout << " | " << s.oom << " | " << s.crashed << " | " << s.error << " | " << fmt("%.1f%%", s.success_rate)
     << " | " << seconds(s.wall_ms) << " |\n\n";
  auto failures = casesWhere(results, failing);
  if (!failures.empty()) {
    md << "### Failing tests\n\n| verdict | job | test | message |\n|---|---|---|---|\n";
    for (size_t i = 0; i < failures.size() && i < 50; ++i) {
      const auto& f = failures[i];
      md << "| " << verdictLabel(*f.tc) << " | " << markdownText(f.job->name()) << " | "
         << markdownCodeCell(caseName(*f.tc)) << " | " << markdownText(f.tc->message()) << " |\n";
    }
    if (failures.size() > 50) md << "\n… and " << failures.size() - 50 << " more.\n";
    md << "\n";
  }
  auto flakies = casesWhere(results, flaky);
  if (!flakies.empty()) {
    md << "### Flaky tests (passed on rerun)\n\n| test | earlier failure |\n|---|---|\n";
    for (const auto& f : flakies) {
      md << "| " << markdownCodeCell(caseName(*f.tc)) << " | " << markdownText(f.tc->message()) << " |\n";
    }
    md << "\n";
  }
  md << "<details><summary>Slowest tests</summary>\n\n| test | time |\n|---|---:|\n";
  for (const auto& c : slowest(results, 10)) {
    md << "| " << markdownCodeCell(caseName(*c.tc)) << " | " << seconds(c.tc->duration_ms()) << " |\n";
  }
  md << "\n</details>\n";
  return md.str();
}

std::string htmlReport(const RunInfo& run, const Summary& s, const std::vector<v1::Result>& results) {
  std::ostringstream h;
  h << "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>testfleet: "
    << htmlText(run.manifest.suite_name()) << "</title>\n<style>\n"
    << "body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1d2433}\n"
    << "h1{font-size:1.5rem}.verdict{padding:.2rem .6rem;border-radius:.3rem;color:#fff}\n"
    << ".pass{background:#1f883d}.fail{background:#cf222e}.cancel{background:#6e7781}\n"
    << ".cards{display:flex;flex-wrap:wrap;gap:.6rem;margin:1rem 0}\n"
    << ".card{border:1px solid #d0d7de;border-radius:.4rem;padding:.5rem .8rem;min-width:5.5rem}\n"
    << ".card b{display:block;font-size:1.3rem}table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}\n"
    << "td,th{border-bottom:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}\n"
    << "pre{background:#f6f8fa;padding:.6rem;overflow:auto;max-height:24rem;white-space:pre-wrap}\n"
    << ".bar{fill:#0969da}.barlabel{font-size:11px}\n</style></head><body>\n";
  h << "<h1>testfleet · " << htmlText(run.manifest.suite_name()) << " <span id=\"verdict\" class=\"verdict "
    << (s.cancelled_run ? "cancel\">cancelled"
        : s.passed_run  ? "pass\">passed"
                        : "fail\">failed")
    << "</span></h1>\n";
  h << "<p>run <code>" << htmlText(run.manifest.run_id()) << "</code>";
  for (const auto& [k, v] : run.manifest.labels()) h << " · " << htmlText(k) << ": " << htmlText(v);
  h << "</p>\n<div class=\"cards\" id=\"summary\">\n";
  auto card = [&](const char* id, const char* label, const std::string& value) {
    h << "<div class=\"card\"><b id=\"" << id << "\">" << htmlText(value) << "</b>" << label << "</div>\n";
  };
  card("total", "tests", std::to_string(s.total));
  card("passed", "passed", std::to_string(s.passed));
  card("failed", "failed", std::to_string(s.failed));
  card("skipped", "skipped", std::to_string(s.skipped));
  card("flaky", "flaky", std::to_string(s.flaky));
  card("timeout", "timeout", std::to_string(s.timeout));
  card("oom", "oom", std::to_string(s.oom));
  card("crashed", "crashed", std::to_string(s.crashed));
  card("error", "error", std::to_string(s.error));
  if (s.cancelled > 0) card("cancelled", "cancelled", std::to_string(s.cancelled));
  card("rate", "success", fmt("%.1f%%", s.success_rate));
  card("wall", "wall", seconds(s.wall_ms));
  h << "</div>\n";

  auto failures = casesWhere(results, failing);
  h << "<h2>Failures (" << failures.size() << ")</h2>\n";
  if (failures.empty()) h << "<p>None.</p>\n";
  for (const auto& f : failures) {
    h << "<details class=\"failure\"><summary><b>" << verdictLabel(*f.tc) << "</b> " << htmlText(f.job->name())
      << " — <code>" << htmlText(caseName(*f.tc)) << "</code>: " << htmlText(keepHeadAndTail(f.tc->message(), 300))
      << "</summary>\n";
    if (!f.tc->details().empty()) h << "<pre>" << htmlText(f.tc->details()) << "</pre>\n";
    if (!f.job->stdout_tail().empty()) h << "<p>stdout</p><pre>" << htmlText(f.job->stdout_tail()) << "</pre>\n";
    if (!f.job->stderr_tail().empty()) h << "<p>stderr</p><pre>" << htmlText(f.job->stderr_tail()) << "</pre>\n";
    h << "</details>\n";
  }
  auto flakies = casesWhere(results, flaky);
  if (!flakies.empty()) {
    h << "<h2>Flaky (" << flakies.size()
      << ")</h2>\n<table id=\"flaky-tests\"><tr><th>test</th><th>earlier failure</th></tr>\n";
    for (const auto& f : flakies) {
      h << "<tr><td><code>" << htmlText(caseName(*f.tc)) << "</code></td><td>" << htmlText(f.tc->message())
        << "</td></tr>\n";
    }
    h << "</table>\n";
  }
  h << "<h2>Slowest tests</h2>\n<table id=\"slowest\"><tr><th>test</th><th>job</th><th>time</th></tr>\n";
  for (const auto& c : slowest(results, 10)) {
    h << "<tr><td><code>" << htmlText(caseName(*c.tc)) << "</code></td><td>" << htmlText(c.job->name()) << "</td><td>"
      << seconds(c.tc->duration_ms()) << "</td></tr>\n";
  }
  h << "</table>\n";

  writeDurationChart(h, results);
  h << "</body></html>\n";
  return h.str();
}

}  // namespace testfleet::aggregator
