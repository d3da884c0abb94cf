// GitHub Actions workflow commands for a finished run: one `::error` annotation per failing test, shown on the
// workflow's summary page and, with a file and line, beside the code in the pull request.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/api/run_view.h"

namespace testfleet::producer {

inline constexpr size_t kMaxAnnotations = 50;  // GitHub shows at most 50 per step; more only make the log longer

// GitHub's escaping for a workflow command's message: % CR LF as %25 %0D %0A.
std::string escapeCommandData(std::string_view text);
// ... and for a property value (file=, title=): also : and , as %3A %2C.
std::string escapeCommandProperty(std::string_view text);

// The lines to print to stdout: `::error file=F,line=L,title=T::message` for each failing test case (file and line
// when the framework reported them) and for each failing job that reported no cases, at most `limit` of them, then
// one `::warning` saying how many more failed. Empty when nothing failed.
std::string githubAnnotations(const api::RunView& run, size_t limit = kMaxAnnotations);

}  // namespace testfleet::producer
