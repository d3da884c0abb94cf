#include "common/metrics/service_metrics.h"

#include <prometheus/gauge.h>
#include <prometheus/text_serializer.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "common/build_info.h"
#include "common/verdict.h"

namespace testfleet::metrics {

const prometheus::Histogram::BucketBoundaries& durationBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets{0.01, 0.05, 0.1, 0.25, 0.5, 1,   2.5, 5,
                                                               10,   30,   60,  120,  300, 600, 1800};
  return buckets;
}

double secondsBetween(int64_t from_ms, int64_t to_ms) {
  return to_ms > from_ms ? static_cast<double>(to_ms - from_ms) / 1000.0 : 0.0;
}

prometheus::Family<prometheus::Counter>& counterFamily(prometheus::Registry& registry, const std::string& name,
                                                       const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
}

prometheus::Histogram& durationHistogram(prometheus::Registry& registry, const std::string& name,
                                         const std::string& help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(registry).Add({}, durationBuckets());
}

void addVerdictSeries(prometheus::Family<prometheus::Counter>& family) {
  for (int v = v1::Verdict_MIN + 1; v <= v1::Verdict_MAX; ++v) {
    if (v1::Verdict_IsValid(v)) family.Add({{"verdict", std::string(verdictName(static_cast<v1::Verdict>(v)))}});
  }
}

void addBuildInfo(prometheus::Registry& registry) {
  prometheus::BuildGauge()
      .Name("testfleet_build_info")
      .Help("Always 1; its labels say which version and commit this binary was built from")
      .Register(registry)
      .Add({{"version", buildVersion()}, {"commit", buildCommit().empty() ? "unknown" : buildCommit()}})
      .Set(1);
}

std::optional<ProcStat> parseProcStat(std::string_view line) {
  const auto close = line.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::istringstream rest{std::string(line.substr(close + 1))};
  std::vector<std::string> fields;  // fields[0] is field 3 (state)
  for (std::string f; rest >> f;) fields.push_back(std::move(f));
  if (fields.size() < 22) return std::nullopt;
  try {
    auto field = [&](size_t n) { return std::stoull(fields[n - 3]); };
    return ProcStat{field(14), field(15), field(22), field(23), field(24)};
  } catch (const std::exception&) {  // std::invalid_argument, std::out_of_range: not a stat line
    return std::nullopt;
  }
}

namespace {

prometheus::MetricFamily oneValue(const std::string& name, const std::string& help, prometheus::MetricType type,
                                  double value) {
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter)
    m.counter.value = value;
  else
    m.gauge.value = value;
  return {name, help, type, {m}};
}

std::optional<uint64_t> bootTimeSeconds() {
  std::ifstream in("/proc/stat");
  for (std::string key; in >> key;) {
    if (key == "btime") {
      uint64_t t = 0;
      if (in >> t) return t;
      return std::nullopt;
    }
    in.ignore(1 << 20, '\n');
  }
  return std::nullopt;
}

}  // namespace

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  const auto stat = parseProcStat(line);
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  if (stat && ticks > 0) {
    out.push_back(oneValue("process_cpu_seconds_total", "User and system CPU time of the process, in seconds",
                           MetricType::Counter, static_cast<double>(stat->utime_ticks + stat->stime_ticks) / ticks));
    out.push_back(oneValue("process_resident_memory_bytes", "Resident memory of the process", MetricType::Gauge,
                           static_cast<double>(stat->rss_pages) * static_cast<double>(::sysconf(_SC_PAGESIZE))));
    out.push_back(oneValue("process_virtual_memory_bytes", "Virtual memory of the process", MetricType::Gauge,
                           static_cast<double>(stat->virtual_bytes)));
    if (auto boot = bootTimeSeconds()) {
      out.push_back(oneValue("process_start_time_seconds", "When the process started, in seconds since the epoch",
                             MetricType::Gauge,
                             static_cast<double>(*boot) + static_cast<double>(stat->start_ticks) / ticks));
    }
  }
  std::error_code ec;
  size_t fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++fds;
  }
  if (!ec) {
    out.push_back(oneValue("process_open_fds", "Open file descriptors of the process", MetricType::Gauge,
                           static_cast<double>(fds)));
  }
  return out;
}

std::string exposition(const prometheus::Registry& registry) {
  std::vector<prometheus::MetricFamily> families = registry.Collect();
  for (auto& f : ProcessCollector().Collect()) families.push_back(std::move(f));
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace testfleet::metrics
