// Where readers open a run: the aggregator's public URL (--public-url) plus the run's report paths.
#pragma once

#include <string>

namespace testfleet::producer {

// What --public-url accepts: an http:// or https:// URL with nothing that would end a Markdown link (spaces, < > ( )
// " ' ` | [ ]). "" when `url` is fine, else what is wrong.
std::string publicUrlProblem(const std::string& url);

// `public_url` (a trailing / dropped) + "/v1/runs/<run_id>/report.html": the run's HTML report.
std::string runReportUrl(const std::string& public_url, const std::string& run_id);

// The Markdown summary with a line linking the run's HTML report and JSON view after its first line (the heading).
// `run_id` follows kRunIdRule and `public_url` passed publicUrlProblem, so neither needs escaping.
std::string withRunLink(const std::string& markdown, const std::string& public_url, const std::string& run_id);

}  // namespace testfleet::producer
