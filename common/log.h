// Process-wide logging set-up (spdlog). Call once from main before any thread starts.
#pragma once

#include <string>

namespace testfleet {

// level: trace|debug|info|warn|error. Logs go to stderr with the service name in each line.
void initLogging(const std::string& service, const std::string& level);

// Why `level` is not a log level, or "" when it is one.
std::string logLevelProblem(const std::string& level);

}  // namespace testfleet
