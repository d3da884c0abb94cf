#include "aggregator/reports/flakiness.h"

#include <map>
#include <string>

#include "common/verdict.h"

namespace testfleet::aggregator {

void markFlaky(std::vector<v1::Result>& finals, const std::vector<v1::Result>& attempts) {
  // job id → earlier attempts that make a pass FLAKY (makesFlaky), oldest first.
  std::map<std::string, std::vector<const v1::Result*>> failed_before;
  for (const auto& a : attempts) {
    if (!a.final() && makesFlaky(a.verdict())) failed_before[a.job_id()].push_back(&a);
  }
  for (auto& r : finals) {
    const auto it = failed_before.find(r.job_id());
    if (it == failed_before.end()) continue;
    r.set_verdict(jobVerdict(r.verdict(), true));
    if (r.verdict() != v1::FLAKY) continue;
    for (auto& c : *r.mutable_cases()) {
      if (c.status() != v1::PASSED) continue;
      for (const v1::Result* earlier : it->second) {
        for (const auto& e : earlier->cases()) {
          if (e.name() != c.name() || e.classname() != c.classname() || !makesFlaky(e.status())) continue;
          c.set_status(v1::FLAKY);
          c.set_message("failed on attempt " + std::to_string(earlier->attempt()) + ": " + e.message());
          c.set_details(e.details());
          c.set_type(e.type());
          c.set_system_out(e.system_out());
          c.set_system_err(e.system_err());
        }
        if (c.status() == v1::FLAKY) break;
      }
    }
  }
}

}  // namespace testfleet::aggregator
