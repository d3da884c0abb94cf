#include <doctest/doctest.h>

#include <string>

#include "common/metrics/service_metrics.h"

using namespace testfleet::metrics;

TEST_CASE("service metrics: a /proc stat line is read from after the command name, which may hold ') '") {
  const auto s = parseProcStat(
      "4242 (tf (worker) x) S 1 4242 4242 0 -1 4194560 500 0 0 0 170 30 0 0 20 0 3 0 987654 123456789 2048 "
      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0");
  REQUIRE(s);
  CHECK(s->utime_ticks == 170);
  CHECK(s->stime_ticks == 30);
  CHECK(s->start_ticks == 987654);
  CHECK(s->virtual_bytes == 123456789);
  CHECK(s->rss_pages == 2048);
  CHECK_FALSE(parseProcStat("no parenthesis here"));
  CHECK_FALSE(parseProcStat("1 (x) S 1 2"));
}

TEST_CASE("service metrics: the exposition holds the registry's metrics, build info and this process's") {
  prometheus::Registry registry;
  addBuildInfo(registry);
  const std::string text = exposition(registry);
  CHECK(text.find("testfleet_build_info{commit=\"") != std::string::npos);
  CHECK(text.find("version=\"") != std::string::npos);
  for (const char* name : {"process_cpu_seconds_total ", "process_resident_memory_bytes ", "process_open_fds ",
                           "process_start_time_seconds "}) {
    CHECK_MESSAGE(text.find(std::string("\n") + name) != std::string::npos, name);
  }
}

TEST_CASE("service metrics: one bucket layout, rising, for every duration histogram") {
  const auto& b = durationBuckets();
  REQUIRE(b.size() > 5);
  for (size_t i = 1; i < b.size(); ++i) CHECK(b[i - 1] < b[i]);
}
