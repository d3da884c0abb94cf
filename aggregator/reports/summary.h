// The arithmetic of a run's report: counts per verdict at test-case level, rates and times. Pure.
#pragma once

#include <cstdint>
#include <vector>

#include "aggregator/storage/result_store.h"

namespace testfleet::aggregator {

struct Summary {
  int total = 0, passed = 0, failed = 0, skipped = 0, flaky = 0, timeout = 0, oom = 0, crashed = 0, error = 0;
  int cancelled = 0;  // cases of jobs the run's cancel stopped or never started
  int jobs = 0;
  double success_rate = 100.0;  // passed (and flaky) / (total − skipped − cancelled), in percent; 100 when none ran
  double total_ms = 0;          // sum of test-case durations
  double avg_ms = 0;            // total_ms / total
  double wall_ms = 0;           // submit to completion (or to now while running)
  bool passed_run = false;      // the run's verdict (RunInfo::verdict), as the run list gives it
  bool cancelled_run = false;   // the run was cancelled (RunVerdict::cancelled)
  // The schedule: from the first job's start to the last job's end, against the best any schedule could do with
  // the slots that were busy at the peak: max(longest job, total job time / peak slots).
  double makespan_ms = 0;
  double lower_bound_ms = 0;
  int peak_slots = 0;
};

Summary summarise(const RunInfo& run, const std::vector<v1::Result>& results, int64_t now_ms);

}  // namespace testfleet::aggregator
