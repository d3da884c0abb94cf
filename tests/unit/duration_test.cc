#include <doctest/doctest.h>

#include "common/duration.h"

using namespace testfleet;
using namespace std::chrono_literals;

TEST_CASE("durations in suite and config files") {
  CHECK(parseDuration("30") == 30s);
  CHECK(parseDuration("90s") == 90s);
  CHECK(parseDuration("500ms") == 500ms);
  CHECK(parseDuration("2m") == 120s);
  CHECK(parseDuration("1.5s") == 1500ms);
  CHECK_FALSE(parseDuration("forever"));
  CHECK_FALSE(parseDuration("-3s"));
  CHECK_FALSE(parseDuration("10 parsecs"));
  CHECK_FALSE(parseDuration("9999h"));
}

TEST_CASE("byte sizes") {
  CHECK(parseBytes("512Mi") == 512ull << 20);
  CHECK(parseBytes("1G") == 1000000000ull);
  CHECK(parseBytes("4096") == 4096u);
  CHECK_FALSE(parseBytes("lots"));
}
