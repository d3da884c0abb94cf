// What every service's /metrics has besides its own metrics: the one bucket layout of duration histograms,
// testfleet_build_info, and process_* metrics read from /proc. Thread-safe: collecting only reads.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace testfleet::metrics {

// Seconds, from 10 ms to 30 min: every *_seconds histogram uses these, so panels can compare them.
const prometheus::Histogram::BucketBoundaries& durationBuckets();

// Seconds from from_ms to to_ms (wall clock, milliseconds), never below 0: clocks of two machines may disagree.
double secondsBetween(int64_t from_ms, int64_t to_ms);

// A counter family, and a histogram without labels over durationBuckets(), registered in `registry`.
prometheus::Family<prometheus::Counter>& counterFamily(prometheus::Registry& registry, const std::string& name,
                                                       const std::string& help);
prometheus::Histogram& durationHistogram(prometheus::Registry& registry, const std::string& name,
                                         const std::string& help);

// Starts a {verdict} series at 0 for every verdict ("passed" … "error"), so rates over them exist before the first.
void addVerdictSeries(prometheus::Family<prometheus::Counter>& family);

// Registers testfleet_build_info{version,commit} = 1 (the version and commit this binary was built from).
void addBuildInfo(prometheus::Registry& registry);

// What /proc/self/stat says about this process (fields 14, 15, 22, 23 and 24).
struct ProcStat {
  uint64_t utime_ticks = 0, stime_ticks = 0, start_ticks = 0;  // clock ticks; start: since boot
  uint64_t virtual_bytes = 0;
  uint64_t rss_pages = 0;
};
// The fields of a /proc/<pid>/stat line, or nullopt when it is not one (the command name may hold spaces and
// parentheses: the fields are counted from its last ')').
std::optional<ProcStat> parseProcStat(std::string_view line);

// process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes, process_open_fds and
// process_start_time_seconds, as the Prometheus client libraries name them. Empty where /proc cannot be read.
class ProcessCollector : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

// The text exposition of `registry` with the process metrics after it.
std::string exposition(const prometheus::Registry& registry);

}  // namespace testfleet::metrics
