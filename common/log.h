// Process-wide logging set-up (spdlog). Call once from main before any thread starts.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace testfleet {

// text: "2026-11-26T12:00:00.123 I [worker] message", coloured on a terminal. json: one object per line, for log
// collectors (jsonLogLine).
enum class LogFormat { kText, kJson };

// level: trace|debug|info|warn|error. Logs go to stderr with the service name in each line.
void initLogging(const std::string& service, const std::string& level, LogFormat format = LogFormat::kText);

// Why `level` is not a log level, or "" when it is one.
std::string logLevelProblem(const std::string& level);

// Whether text logs get ANSI colours: only on a terminal, and never when NO_COLOR is set to anything but ""
// (https://no-color.org). no_color: the variable's value, nullptr when unset.
bool useColour(const char* no_color, bool stderr_is_terminal);

// {"time":"2026-11-26T12:00:00.123Z","level":"info","service":"worker","message":"…"} (UTC, without a newline).
// Bytes of `message` that are not UTF-8 become U+FFFD, so the line is always valid JSON.
std::string jsonLogLine(std::chrono::system_clock::time_point time, std::string_view level, std::string_view service,
                        std::string_view message);

}  // namespace testfleet
