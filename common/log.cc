#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

namespace testfleet {

std::string logLevelProblem(const std::string& level) {
  if (spdlog::level::from_str(level) != spdlog::level::off || level == "off") return "";
  return "log level '" + level + "' is not one of trace, debug, info, warn, error, off";
}

void initLogging(const std::string& service, const std::string& level) {
  auto logger = spdlog::stderr_color_mt(service);
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%L%$ [%n] %v");
  if (std::string problem = logLevelProblem(level); !problem.empty()) throw std::invalid_argument(problem);
  spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace testfleet
