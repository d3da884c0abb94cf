// A suite file, loaded and validated. Everything in it is untrusted: unknown keys, wrong types and oversized
// workspaces are errors that name the key and the line.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/bundle.h"
#include "testfleet/v1/testfleet.pb.h"

namespace testfleet::suite {

struct SuiteLimits {
  size_t max_suite_file_bytes = 4 << 20;
  size_t max_files_per_job = 2000;
  size_t max_workspace_bytes = 4 << 20;  // inline files travel in the Kafka message
  size_t max_tests = 100000;
  uint64_t max_bundle_bytes = 256ull << 20;       // a folder packed for 'root' or the directory form
  size_t max_environment_file_bytes = 256 << 10;  // each file an 'environment' names (it travels in every job)
};

struct InlineFile {
  std::string path;  // relative to the workspace
  std::string content;
  bool executable = false;
};

// One test entry of the seed form, or one file of the directory form, after defaults were applied.
struct TestSpec {
  std::string name;
  v1::Framework framework = v1::SHELL;
  std::vector<std::string> tests;  // what the framework is told to run (files, ids); empty = its default
  std::string command;
  std::string junit_file;  // shell: a JUnit XML file the command writes, relative to the workspace
  std::vector<InlineFile> files;
  std::string bundle_sha256;  // the workspace is this bundle (Suite::bundles, or bundle_url) instead of files
  std::string bundle_url;     // given in the suite (a prebuilt bundle); empty = packed from a folder here
  std::map<std::string, std::string> env;
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
  std::string setup;
  std::string teardown;
  uint64_t memory_bytes = 0;  // 0 = the worker's default
  uint32_t max_pids = 0;
  bool network = false;
  uint32_t reruns = 0;                 // a FAILED job runs again up to this many times; failed-then-passed is FLAKY
  std::vector<std::string> artifacts;  // workspace files kept after the job (glob patterns)
  int line = 0;                        // where it was declared, for messages
  bool groupable = false;              // one file of the directory form: may share a job with others (see Grouping)
  bool split_tests = false;            // split: test — listed in a sandbox first, then one job per test id
  std::optional<v1::Environment> environment;  // what its tests need installed, with the files it names and its hash
};

// How the directory form's files become jobs: one per file (the default), files packed into jobs of about
// `target` expected duration, or exactly `shards` jobs of about equal expected duration. Expected durations come
// from the aggregator's history; a file without history counts as `unknown_estimate`.
struct Grouping {
  std::chrono::milliseconds target{0};
  uint32_t shards = 0;
  std::chrono::milliseconds unknown_estimate{std::chrono::seconds(1)};
  bool active() const { return target.count() > 0 || shards > 0; }
};

// Which of a folder's files a framework would run, asked on the submitting machine: the directory form's default
// for pytest (its own collection, which honours testpaths, python_files and --doctest-modules from the project's
// config). `files` are relative to the folder; a non-empty `problem` says why the framework could not be asked.
struct CollectedFiles {
  std::vector<std::string> files;
  std::string problem;
};
using FileCollector = std::function<CollectedFiles(const std::filesystem::path& root, v1::Framework framework)>;

struct Suite {
  std::string name;
  bool flaky_fails_run = false;
  std::map<std::string, std::string> labels;
  std::vector<TestSpec> tests;
  Grouping grouping;
  std::map<std::string, PackedBundle> bundles;     // folders packed while loading, by SHA-256
  std::map<std::string, std::string> bundle_urls;  // where workers fetch them, by SHA-256 (set before planning)
  std::vector<std::string> notes;                  // what loading decided that the user should hear (submit prints)
};

// Every problem found, each "FILE:LINE: message"; what() joins them.
class SuiteError : public std::runtime_error {
 public:
  explicit SuiteError(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

// Reads and validates a suite file. Directory roots are relative to the suite file's folder. Without a collector
// the directory form chooses its files by pattern only.
Suite loadSuite(const std::filesystem::path& file, const SuiteLimits& limits = {}, const FileCollector& collect = {});
// The same from text (display_name is used in messages; base_dir anchors directory roots).
Suite parseSuite(const std::string& text, const std::string& display_name, const std::filesystem::path& base_dir,
                 const SuiteLimits& limits = {}, const FileCollector& collect = {});

}  // namespace testfleet::suite
