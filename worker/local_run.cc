#include "worker/local_run.h"

#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <iostream>

#include "common/clock.h"
#include "common/text.h"
#include "common/verdict.h"
#include "suite/planner.h"
#include "suite/suite.h"

namespace testfleet::worker {

int runSuiteLocally(const std::filesystem::path& suite_file, JobExecutor& runner, std::ostream& out) {
  suite::Suite suite;
  try {
    suite = suite::loadSuite(suite_file);
  } catch (const suite::SuiteError& e) {
    std::cerr << e.what();
    return 2;
  }
  // Bundles go to files beside the worker's work folder; jobs fetch them by file:// URL.
  const auto bundle_dir =
      std::filesystem::temp_directory_path() / ("testfleet-local-bundles-" + randomId().substr(0, 8));
  if (!suite.bundles.empty()) std::filesystem::create_directories(bundle_dir);
  for (const auto& [sha, packed] : suite.bundles) {
    const auto path = bundle_dir / (sha + ".tar.gz");
    std::ofstream(path, std::ios::binary)
        .write(packed.archive.data(), static_cast<std::streamsize>(packed.archive.size()));
    suite.bundle_urls[sha] = "file://" + path.string();
  }
  suite::Plan plan = suite::planRun(suite, "local-" + randomId().substr(0, 8), nowMillis());
  bool all_passed = true;
  std::atomic<bool> never{false};
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  for (const auto& job : plan.jobs) {
    v1::Result r = runner.run(job, never);
    all_passed &= !isFailing(r.verdict());
    std::string line;
    (void)google::protobuf::util::MessageToJsonString(r, &line, options);
    out << line << "\n" << std::flush;
  }
  std::error_code ec;
  std::filesystem::remove_all(bundle_dir, ec);
  return all_passed ? 0 : 1;
}

int runJobsLocally(const std::filesystem::path& jobs_file, JobExecutor& runner, std::ostream& out) {
  std::ifstream in(jobs_file);
  google::protobuf::util::JsonPrintOptions print;
  print.always_print_primitive_fields = true;
  std::atomic<bool> never{false};
  bool all_passed = true;
  size_t line_number = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    v1::Job job;
    if (auto status = google::protobuf::util::JsonStringToMessage(line, &job); !status.ok()) {
      std::cerr << jobs_file.string() << ":" << line_number << ": not a Job record: " << status.ToString() << "\n";
      return 2;
    }
    v1::Result r = runner.run(job, never);
    all_passed &= !isFailing(r.verdict());
    std::string text;
    (void)google::protobuf::util::MessageToJsonString(r, &text, print);
    out << text << "\n" << std::flush;
  }
  return all_passed ? 0 : 1;
}

}  // namespace testfleet::worker
