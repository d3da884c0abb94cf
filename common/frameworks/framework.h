// A framework adapter knows how to run a job's tests inside the sandbox and how to read their results.
// Shared by the producer (validation) and the worker (execution). Adapters are stateless and thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "testfleet/v1/testfleet.pb.h"

namespace testfleet {

// Where the adapter writes its machine-readable report: the sandbox sets TF_OUT to a writable folder the worker
// reads afterwards (as kReportFile), and the command refers to it through the shell.
inline constexpr std::string_view kReportPath = "\"$TF_OUT/report\"";
inline constexpr std::string_view kReportFile = "report";

// What the report at kReportPath holds.
enum class ReportFormat { kNone, kJunitXml, kGoTestJson, kJestJson };

class FrameworkAdapter {
 public:
  virtual ~FrameworkAdapter() = default;
  // The /bin/sh command line that runs the job's tests in the workspace (the current directory).
  virtual std::string command(const v1::Job& job) const = 0;
  // What the command writes at kReportPath (kNone: the exit code is the verdict).
  virtual ReportFormat report(const v1::Job& job) const = 0;
  // A suite file may use this name for the framework.
  virtual std::string_view name() const = 0;

  // Listing, for splitting a suite per test case: the command that writes the ids of the job's tests to
  // kReportPath (empty: this framework cannot list), and how to read them back. An id given back as the job's
  // tests runs that one test (for gtest after the binary: job.tests = [binary, id]).
  virtual std::string listCommand(const v1::Job&) const { return ""; }
  virtual std::vector<std::string> parseListing(std::string_view) const { return {}; }
};

using FrameworkAdapterPtr = std::unique_ptr<FrameworkAdapter>;

FrameworkAdapterPtr makeAdapter(v1::Framework framework);
// "pytest", "unittest", "node", "jest", "go", "gtest", "shell" → the enum; nullopt for an unknown name.
std::optional<v1::Framework> frameworkFromName(std::string_view name);
std::vector<std::string> frameworkNames();

}  // namespace testfleet
