#include "common/duration.h"

#include <charconv>
#include <cstdint>
#include <string>
#include <utility>

namespace testfleet {
namespace {
// Splits "12.5ms" into 12.5 and "ms".
bool splitNumber(std::string_view text, double& number, std::string_view& unit) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) return false;
  std::string digits(text.substr(0, i));
  try {
    size_t used = 0;
    number = std::stod(digits, &used);
    if (used != digits.size()) return false;
  } catch (const std::exception&) {
    return false;
  }
  unit = text.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  return number >= 0;
}
}  // namespace

std::optional<std::chrono::milliseconds> parseDuration(std::string_view text) {
  double n = 0;
  std::string_view unit;
  if (!splitNumber(text, n, unit)) return std::nullopt;
  double ms = 0;
  if (unit.empty() || unit == "s") {
    ms = n * 1000;
  } else if (unit == "ms") {
    ms = n;
  } else if (unit == "m" || unit == "min") {
    ms = n * 60000;
  } else if (unit == "h") {
    ms = n * 3600000;
  } else {
    return std::nullopt;
  }
  if (ms > 7.0 * 24 * 3600 * 1000) return std::nullopt;  // a week is the most anything here may take
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

std::optional<uint64_t> parseBytes(std::string_view text) {
  double n = 0;
  std::string_view unit;
  if (!splitNumber(text, n, unit)) return std::nullopt;
  double mult = 1;
  if (unit.empty() || unit == "B")
    mult = 1;
  else if (unit == "K" || unit == "KB")
    mult = 1e3;
  else if (unit == "Ki" || unit == "KiB")
    mult = 1024.0;
  else if (unit == "M" || unit == "MB")
    mult = 1e6;
  else if (unit == "Mi" || unit == "MiB")
    mult = 1024.0 * 1024;
  else if (unit == "G" || unit == "GB")
    mult = 1e9;
  else if (unit == "Gi" || unit == "GiB")
    mult = 1024.0 * 1024 * 1024;
  else
    return std::nullopt;
  double bytes = n * mult;
  if (bytes > 1e15) return std::nullopt;
  return static_cast<uint64_t>(bytes);
}

std::string formatDuration(std::chrono::milliseconds duration) {
  const int64_t ms = duration.count();
  if (ms != 0 && ms % 3600000 == 0) return std::to_string(ms / 3600000) + "h";
  if (ms != 0 && ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string formatBytes(uint64_t bytes) {
  static constexpr std::pair<uint64_t, const char*> kUnits[] = {
      {1ull << 30, "Gi"}, {1ull << 20, "Mi"}, {1ull << 10, "Ki"}};
  for (const auto& [size, unit] : kUnits) {
    if (bytes != 0 && bytes % size == 0) return std::to_string(bytes / size) + unit;
  }
  return std::to_string(bytes);
}

}  // namespace testfleet
