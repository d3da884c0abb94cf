#include "common/frameworks/framework.h"

#include <stdexcept>

#include "common/text.h"

namespace testfleet {
namespace {

std::string quotedTests(const v1::Job& job) {
  std::string out;
  for (const auto& t : job.tests()) out += " " + shellQuote(t);
  return out;
}

std::string withExtra(std::string cmd, const v1::Job& job) {
  if (!job.command().empty()) cmd += " " + job.command();
  return cmd;
}

// The command runs as it is; its exit code is the verdict.
class ShellAdapter : public FrameworkAdapter {
 public:
  std::string command(const v1::Job& job) const override { return job.command(); }
  ReportFormat report() const override { return ReportFormat::kNone; }
  std::string_view name() const override { return "shell"; }
};

// pytest from the system Python; -p no:cacheprovider keeps it from writing .pytest_cache into the workspace.
class PytestAdapter : public FrameworkAdapter {
 public:
  std::string command(const v1::Job& job) const override {
    return withExtra("python3 -m pytest -q -rN -p no:cacheprovider -o junit_family=xunit1 --junitxml=" +
                         std::string(kReportPath) + quotedTests(job),
                     job);
  }
  ReportFormat report() const override { return ReportFormat::kJunitXml; }
  std::string_view name() const override { return "pytest"; }
};

// node's built-in runner with its JUnit reporter, plus the human-readable one on stdout.
class NodeTestAdapter : public FrameworkAdapter {
 public:
  std::string command(const v1::Job& job) const override {
    return withExtra("node --test --test-reporter=spec --test-reporter-destination=stdout --test-reporter=junit "
                     "--test-reporter-destination=" +
                         std::string(kReportPath) + quotedTests(job),
                     job);
  }
  ReportFormat report() const override { return ReportFormat::kJunitXml; }
  std::string_view name() const override { return "node"; }
};

// go test's JSON event stream, written to the report file; packages default to ./... . The module cache and build
// cache live in the sandbox's /tmp, and no toolchain download is attempted (GOTOOLCHAIN=local, GOFLAGS=-mod=mod
// only resolves what is vendored or in the workspace).
class GoTestAdapter : public FrameworkAdapter {
 public:
  std::string command(const v1::Job& job) const override {
    std::string packages = job.tests_size() ? quotedTests(job) : " ./...";
    return "export GOCACHE=/tmp/go-build GOPATH=/tmp/go GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off "
           "PATH=\"$PATH:/usr/local/go/bin\"; go test -json" +
           (job.command().empty() ? "" : " " + job.command()) + packages + " > " + std::string(kReportPath);
  }
  ReportFormat report() const override { return ReportFormat::kGoTestJson; }
  std::string_view name() const override { return "go"; }
};

}  // namespace

FrameworkAdapterPtr makeAdapter(v1::Framework framework) {
  switch (framework) {
    case v1::SHELL:
      return std::make_unique<ShellAdapter>();
    case v1::PYTEST:
      return std::make_unique<PytestAdapter>();
    case v1::NODE_TEST:
      return std::make_unique<NodeTestAdapter>();
    case v1::GO_TEST:
      return std::make_unique<GoTestAdapter>();
    default:
      return nullptr;
  }
}

std::optional<v1::Framework> frameworkFromName(std::string_view name) {
  if (name == "shell") return v1::SHELL;
  if (name == "pytest") return v1::PYTEST;
  if (name == "node") return v1::NODE_TEST;
  if (name == "go") return v1::GO_TEST;
  return std::nullopt;
}

std::vector<std::string> frameworkNames() { return {"pytest", "node", "go", "shell"}; }

}  // namespace testfleet
