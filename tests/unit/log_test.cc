#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "common/log.h"

using namespace testfleet;

TEST_CASE("text logs are coloured only on a terminal and only without NO_COLOR") {
  CHECK(useColour(nullptr, true));
  CHECK(useColour("", true));  // set but empty: no-color.org says it does not count
  CHECK_FALSE(useColour("1", true));
  CHECK_FALSE(useColour("0", true));  // any value counts, even 0
  CHECK_FALSE(useColour(nullptr, false));
  CHECK_FALSE(useColour("", false));
}

TEST_CASE("a JSON log line is one object with time, level, service and message, in that order") {
  const std::chrono::system_clock::time_point at{std::chrono::milliseconds(1764158400123)};
  CHECK(jsonLogLine(at, "info", "worker", "ready") ==
        R"({"time":"2025-11-26T12:00:00.123Z","level":"info","service":"worker","message":"ready"})");
}

TEST_CASE("a JSON log line escapes quotes, control characters and bytes that are not UTF-8") {
  const std::string message = "say \"hi\"\\\n\tbell\x07 latin1 \xE9 cut \xE2\x82 end \xE2\x82\xAC";
  const std::string line = jsonLogLine(std::chrono::system_clock::time_point{}, "warn", "aggre\"gator", message);
  CHECK(line.find('\n') == std::string::npos);
  CHECK(line.find("\\u0007") != std::string::npos);
  const auto parsed = nlohmann::json::parse(line);  // throws on invalid JSON or UTF-8
  CHECK(parsed["time"] == "1970-01-01T00:00:00.000Z");
  CHECK(parsed["service"] == "aggre\"gator");
  CHECK(parsed["message"] ==
        "say \"hi\"\\\n\tbell\x07 latin1 \xEF\xBF\xBD cut \xEF\xBF\xBD end \xE2\x82\xAC");  // U+FFFD each, € kept
}
