#include "worker/local_run.h"

#include <google/protobuf/util/json_util.h>

#include <iostream>

#include "common/clock.h"
#include "common/text.h"
#include "common/verdict.h"
#include "producer/planner.h"
#include "producer/suite.h"

namespace testfleet::worker {

int runSuiteLocally(const std::filesystem::path& suite_file, JobExecutor& runner, std::ostream& out) {
  producer::Suite suite;
  try {
    suite = producer::loadSuite(suite_file);
  } catch (const producer::SuiteError& e) {
    std::cerr << e.what();
    return 2;
  }
  producer::Plan plan = producer::planRun(suite, "local-" + randomId().substr(0, 8), nowMillis());
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
  return all_passed ? 0 : 1;
}

}  // namespace testfleet::worker
