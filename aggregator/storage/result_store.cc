#include "aggregator/storage/result_store.h"

namespace testfleet::aggregator {

bool RunQuery::matches(const RunInfo& run) const {
  if (!suite.empty() && run.manifest.suite_name() != suite) return false;
  for (const auto& [key, value] : labels) {
    auto it = run.manifest.labels().find(key);
    if (it == run.manifest.labels().end() || it->second != value) return false;
  }
  switch (status) {
    case Status::any:
      return true;
    case Status::running:
      return !run.complete();
    case Status::complete:
      return run.complete();
    case Status::passed:
      return run.complete() && run.verdict().passed;
    case Status::failed:
      return run.complete() && !run.verdict().passed;
  }
  return false;
}

}  // namespace testfleet::aggregator
