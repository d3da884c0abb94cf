// Human durations in config and suite files: "500ms", "90s", "2m", "1h", or a bare number of seconds.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace testfleet {

std::optional<std::chrono::milliseconds> parseDuration(std::string_view text);
// "512Mi", "1G", "1024" (bytes) → bytes; nullopt when malformed.
std::optional<uint64_t> parseBytes(std::string_view text);

}  // namespace testfleet
