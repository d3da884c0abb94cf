// Turns a validated suite into the run manifest and its jobs. Pure: no I/O, so it is tested without a broker.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "suite/suite.h"
#include "testfleet/v1/testfleet.pb.h"

namespace testfleet::suite {

struct Plan {
  v1::RunManifest manifest;
  std::vector<v1::Job> jobs;
};

// job_id is derived from the test's name, so the same test gets the same id in every run (history attaches to it).
std::string jobIdFor(const std::string& test_name);

Plan planRun(const Suite& suite, const std::string& run_id, int64_t now_ms);

// Packs the directory form's files into jobs as suite.grouping says (nothing to do when it is not active), from
// expected durations per file (test_ms: file → ms from history; others count as grouping.unknown_estimate).
// Target: first-fit decreasing into jobs of at most the target, a file at or over it alone. Shards: longest
// first onto the least loaded of N jobs. A job of one file keeps the file's name (and job id); a job of several
// is named "<first file> +<n> more". Returns the expected duration of every job whose files all have history,
// by job id, for orderByHistory.
std::map<std::string, uint32_t> groupTests(Suite& suite, const std::map<std::string, uint32_t>& test_ms);

// split: test — the entries that ask for it are listed in a sandbox before the run is planned, in sets that run
// alike (same bundle, framework, setup, command and environment; for gtest the same binary): one listing entry
// per set, which lists the tests of all its members.
struct Listing {
  Suite suite;                               // the listing run: plan it and mark its jobs list_tests
  std::vector<std::vector<size_t>> members;  // per entry of listing.suite, the indices of the suite's entries
  bool empty() const { return members.empty(); }
};
Listing planListing(const Suite& suite);

// Replaces the listed entries by one entry per id found (name = id; for gtest: the binary, then the id), after the
// entries that were not listed. listed[n] holds the ids found by entry n of listing.suite. Each new entry keeps its
// prototype's settings, so a directory's stay groupable: groupTests, run after this, packs the tests into jobs.
// Returns how many entries were replaced.
size_t expandListed(Suite& suite, const Listing& listing, const std::vector<std::vector<std::string>>& listed);

// Orders the jobs so the tail of the run is short: jobs with no history first (they may be long), then the
// longest expected first. durations: job id → mean wall time in ms from earlier runs. Returns how many were known.
size_t orderByHistory(Plan& plan, const std::map<std::string, uint32_t>& durations);

}  // namespace testfleet::suite
