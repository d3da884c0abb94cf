#include "common/frameworks/framework.h"

#include <algorithm>
#include <array>
#include <stdexcept>

#include "common/frameworks/unittest_runner.h"
#include "common/text.h"

namespace testfleet {
namespace {

std::string quotedTests(const v1::Job& job) {
  std::string out;
  for (const auto& t : job.tests()) out += " " + shellQuote(t);
  return out;
}

std::vector<std::string> lines(std::string_view text) {
  const auto views = splitLines(text);
  return {views.begin(), views.end()};
}

// A listing command whose output is the listing, written to the report path; when it fails, that output is the
// error (a collection error, a build error), so it is shown on stdout too.
std::string listingTo(const std::string& cmd) {
  const std::string report(kReportPath);
  return cmd + " > " + report + "; tf_rc=$?; [ $tf_rc -eq 0 ] || cat " + report + "; exit $tf_rc";
}

std::string withExtra(std::string cmd, const v1::Job& job) {
  if (!job.command().empty()) cmd += " " + job.command();
  return cmd;
}

// Any command; its exit code is the verdict. With a junit_file, the JUnit XML the command wrote there gives the
// per-test cases (copied to the report path whatever the exit code, so failures keep their details).
class ShellAdapter : public FrameworkAdapter {
 public:
  std::string command(const v1::Job& job) const override {
    if (job.junit_file().empty()) return job.command();
    return "(" + job.command() + ")\ntf_rc=$?\ncp -- " + shellQuote(job.junit_file()) + " " + std::string(kReportPath) +
           " 2>/dev/null\nexit $tf_rc";
  }
  ReportFormat report(const v1::Job& job) const override {
    return job.junit_file().empty() ? ReportFormat::kNone : ReportFormat::kJunitXml;
  }
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
  ReportFormat report(const v1::Job&) const override { return ReportFormat::kJunitXml; }
  std::string_view name() const override { return "pytest"; }
  // Collection only: one node id per line ("dir/test_x.py::TestC::test_y[param]"), then a summary after a blank line.
  std::string listCommand(const v1::Job& job) const override {
    return listingTo(withExtra("python3 -m pytest --collect-only -q -p no:cacheprovider" + quotedTests(job), job));
  }
  std::vector<std::string> parseListing(std::string_view text) const override {
    std::vector<std::string> ids;
    for (const auto& line : lines(text)) {
      if (line.empty()) break;
      if (line.find("::") != std::string::npos && line.find(' ') == std::string::npos) ids.push_back(line);
    }
    return ids;
  }
};

// python's unittest through testfleet's runner (unittest_runner.py, embedded at build time): unittest's own
// loader and text runner, plus a JUnit report. Tests are files, modules or dotted ids; none = discovery.
class UnittestAdapter : public FrameworkAdapter {
 public:
  std::string command(const v1::Job& job) const override {
    return withExtra(
        "python3 -c " + shellQuote(std::string(kUnittestRunner)) + " " + std::string(kReportPath) + quotedTests(job),
        job);
  }
  ReportFormat report(const v1::Job&) const override { return ReportFormat::kJunitXml; }
  std::string_view name() const override { return "unittest"; }
  // The runner with --list writes one dotted id per line ("module.Class.test_name").
  std::string listCommand(const v1::Job& job) const override {
    return "python3 -c " + shellQuote(std::string(kUnittestRunner)) + " --list " + std::string(kReportPath) +
           quotedTests(job);
  }
  std::vector<std::string> parseListing(std::string_view text) const override { return lines(text); }
};

// node's built-in runner with its JUnit reporter, plus the human-readable one on stdout.
class NodeTestAdapter : public FrameworkAdapter {
 public:
  std::string command(const v1::Job& job) const override {
    return withExtra(
        "node --test --test-reporter=spec --test-reporter-destination=stdout --test-reporter=junit "
        "--test-reporter-destination=" +
            std::string(kReportPath) + quotedTests(job),
        job);
  }
  ReportFormat report(const v1::Job&) const override { return ReportFormat::kJunitXml; }
  std::string_view name() const override { return "node"; }
};

// jest from the worker's toolchain (the project's own node_modules/.bin/jest when the workspace has one), in one
// process, its JSON result written to the report path. Tests are file paths, taken literally. A workspace without
// package.json or jest.config.* runs with an empty config (jest would otherwise search up to / and give up).
class JestAdapter : public FrameworkAdapter {
 public:
  std::string command(const v1::Job& job) const override {
    std::string cmd =
        "tf_jest=jest; [ -x node_modules/.bin/jest ] && tf_jest=node_modules/.bin/jest; tf_cfg=; "
        "[ -f package.json ] || ls jest.config.* >/dev/null 2>&1 || tf_cfg=--config={}; "
        "\"$tf_jest\" $tf_cfg --ci --runInBand --watchman=false --colors=false --json --outputFile=" +
        std::string(kReportPath);
    if (job.tests_size()) cmd += " --runTestsByPath" + quotedTests(job);
    return withExtra(cmd, job);
  }
  ReportFormat report(const v1::Job&) const override { return ReportFormat::kJestJson; }
  std::string_view name() const override { return "jest"; }
};

// go test's JSON event stream, written to the report file; packages default to ./... . The build cache lives in
// the sandbox's /tmp; modules come from the workspace (vendored) or from the worker's shared cache
// (/cache/go/mod, read-only); nothing is downloaded (GOPROXY=off) and no toolchain is fetched (GOTOOLCHAIN=local).
class GoTestAdapter : public FrameworkAdapter {
 public:
  std::string command(const v1::Job& job) const override {
    return environment() + "go test -json" + (job.command().empty() ? "" : " " + job.command()) + selection(job) +
           " > " + std::string(kReportPath);
  }
  ReportFormat report(const v1::Job&) const override { return ReportFormat::kGoTestJson; }
  std::string_view name() const override { return "go"; }
  // `go test -list` prints each package's top-level test names, then an "ok  <package>  <time>" line.
  std::string listCommand(const v1::Job& job) const override {
    return listingTo(environment() + "go test -list '.*'" + selection(job));
  }
  // Ids are "<package> <TestName>".
  std::vector<std::string> parseListing(std::string_view text) const override {
    std::vector<std::string> ids, pending;
    for (const auto& line : lines(text)) {
      if (line.starts_with("ok ") || line.starts_with("ok\t")) {
        std::string package = line.substr(2);
        package.erase(0, package.find_first_not_of(" \t"));
        package.resize(package.find_first_of(" \t") == std::string::npos ? package.size()
                                                                         : package.find_first_of(" \t"));
        for (const auto& test : pending) ids.push_back(package + " " + test);
        pending.clear();
      } else if (line.starts_with("Test") || line.starts_with("Example") || line.starts_with("Fuzz") ||
                 line.starts_with("Benchmark")) {
        if (!line.starts_with("Benchmark")) pending.push_back(line);  // benchmarks are not tests
      } else {
        pending.clear();  // "?  pkg [no test files]" and anything else
      }
    }
    return ids;
  }

 private:
  static std::string environment() {
    return "export GOCACHE=/tmp/go-build GOPATH=/tmp/go GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off "
           "PATH=\"$PATH:/usr/local/go/bin\"; "
           "[ -d \"$TESTFLEET_CACHE/go/mod\" ] && export GOMODCACHE=\"$TESTFLEET_CACHE/go/mod\"; ";
  }
  // tests: packages ("./...", the default), or test ids "<package> <TestName>" from a listing, run with -run.
  static std::string selection(const v1::Job& job) {
    if (job.tests_size() == 0) return " ./...";
    std::vector<std::string> packages, names;
    for (const auto& t : job.tests()) {
      auto space = t.find(' ');
      if (space == std::string::npos) {
        packages.push_back(t);
        continue;
      }
      if (std::find(packages.begin(), packages.end(), t.substr(0, space)) == packages.end()) {
        packages.push_back(t.substr(0, space));
      }
      names.push_back(t.substr(space + 1));
    }
    std::string out;
    if (!names.empty()) {
      std::string alternatives;
      for (const auto& n : names) alternatives += (alternatives.empty() ? "" : "|") + n;
      out += " -run " + shellQuote("^(" + alternatives + ")$");
    }
    for (const auto& p : packages) out += " " + shellQuote(p);
    return out;
  }
};

// A GoogleTest binary (tests[0], relative to the workspace; built by the job's setup or shipped in its files) with
// its XML report. Further entries of `tests` are a --gtest_filter ("Suite.Name", patterns allowed).
class GtestAdapter : public FrameworkAdapter {
 public:
  std::string command(const v1::Job& job) const override {
    std::string cmd = shellQuote(binary(job)) + " --gtest_color=no --gtest_output=xml:" + std::string(kReportPath);
    if (job.tests_size() > 1) {
      std::string filter;
      for (int i = 1; i < job.tests_size(); ++i) filter += (filter.empty() ? "" : ":") + job.tests(i);
      cmd += " --gtest_filter=" + shellQuote(filter);
    }
    return withExtra(cmd, job);
  }
  ReportFormat report(const v1::Job&) const override { return ReportFormat::kJunitXml; }
  std::string_view name() const override { return "gtest"; }
  // --gtest_list_tests prints "Suite." lines with indented test names under them (comments after '#').
  std::string listCommand(const v1::Job& job) const override {
    return shellQuote(binary(job)) + " --gtest_list_tests > " + std::string(kReportPath);
  }
  std::vector<std::string> parseListing(std::string_view text) const override {
    std::vector<std::string> ids;
    std::string suite;
    for (std::string line : lines(text)) {
      if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
      while (!line.empty() && line.back() == ' ') line.pop_back();
      if (line.empty()) continue;
      if (line.front() != ' ') {
        suite = line;
      } else {
        ids.push_back(suite + line.substr(line.find_first_not_of(' ')));
      }
    }
    return ids;
  }

 private:
  static std::string binary(const v1::Job& job) {
    std::string path = job.tests_size() ? job.tests(0) : "";
    if (!path.empty() && path.front() != '/' && !path.starts_with("./")) path = "./" + path;
    return path;
  }
};

// CTest over the build folder "build" (made by the job's setup, usually `cmake -S . -B build && cmake --build
// build`), with its JUnit output. Tests are CTest test names, run exactly (-R ^name$ each); none = all.
class CtestAdapter : public FrameworkAdapter {
 public:
  std::string command(const v1::Job& job) const override {
    return withExtra("ctest --test-dir build --output-on-failure --no-tests=error --output-junit " +
                         std::string(kReportPath) + selection(job),
                     job);
  }
  ReportFormat report(const v1::Job&) const override { return ReportFormat::kJunitXml; }
  std::string_view name() const override { return "ctest"; }
  std::string listCommand(const v1::Job& job) const override {
    return listingTo("ctest --test-dir build -N" + selection(job));
  }
  // "  Test  #3: name" lines.
  std::vector<std::string> parseListing(std::string_view text) const override {
    std::vector<std::string> ids;
    for (const auto& line : lines(text)) {
      auto test = line.find("Test ");
      auto colon = line.find(": ", test == std::string::npos ? 0 : test);
      if (test == std::string::npos || colon == std::string::npos || line.find('#', test) > colon) continue;
      ids.push_back(line.substr(colon + 2));
    }
    return ids;
  }

 private:
  // One regex for all named tests, each matched whole and with its regex characters escaped.
  static std::string selection(const v1::Job& job) {
    if (job.tests_size() == 0) return "";
    std::string regex;
    for (const auto& name : job.tests()) {
      std::string escaped;
      for (char c : name) {
        if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) escaped += '\\';
        escaped += c;
      }
      regex += (regex.empty() ? "" : "|") + ("^" + escaped + "$");
    }
    return " -R " + shellQuote(regex);
  }
};

struct Known {
  std::string_view name;
  v1::Framework framework;
};
constexpr std::array kKnown = {Known{"pytest", v1::PYTEST},  Known{"unittest", v1::UNITTEST},
                               Known{"node", v1::NODE_TEST}, Known{"jest", v1::JEST},
                               Known{"go", v1::GO_TEST},     Known{"gtest", v1::GTEST},
                               Known{"ctest", v1::CTEST},    Known{"shell", v1::SHELL}};

}  // namespace

FrameworkAdapterPtr makeAdapter(v1::Framework framework) {
  switch (framework) {
    case v1::SHELL:
      return std::make_unique<ShellAdapter>();
    case v1::PYTEST:
      return std::make_unique<PytestAdapter>();
    case v1::UNITTEST:
      return std::make_unique<UnittestAdapter>();
    case v1::NODE_TEST:
      return std::make_unique<NodeTestAdapter>();
    case v1::JEST:
      return std::make_unique<JestAdapter>();
    case v1::GO_TEST:
      return std::make_unique<GoTestAdapter>();
    case v1::GTEST:
      return std::make_unique<GtestAdapter>();
    case v1::CTEST:
      return std::make_unique<CtestAdapter>();
    default:
      return nullptr;
  }
}

std::optional<v1::Framework> frameworkFromName(std::string_view name) {
  for (const auto& k : kKnown) {
    if (k.name == name) return k.framework;
  }
  return std::nullopt;
}

std::vector<std::string> frameworkNames() {
  std::vector<std::string> out;
  out.reserve(kKnown.size());
  for (const auto& k : kKnown) out.emplace_back(k.name);
  return out;
}

}  // namespace testfleet
