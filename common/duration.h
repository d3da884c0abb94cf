// Human durations in config and suite files: "500ms", "90s", "2m", "1h", or a bare number of seconds.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace testfleet {

std::optional<std::chrono::milliseconds> parseDuration(std::string_view text);
// "512Mi", "1G", "1024" (bytes) → bytes; nullopt when malformed.
std::optional<uint64_t> parseBytes(std::string_view text);

// The shortest exact spelling that parseDuration and parseBytes read back: 30000 ms → "30s", 900 KiB → "900Ki".
std::string formatDuration(std::chrono::milliseconds duration);
std::string formatBytes(uint64_t bytes);

}  // namespace testfleet
