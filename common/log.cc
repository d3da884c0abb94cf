#include "common/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <stdexcept>

namespace testfleet {
namespace {

// Formats each record as jsonLogLine; the sink writes it (one line per record).
class JsonLogFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto level = spdlog::level::to_string_view(msg.level);
    const std::string line = jsonLogLine(msg.time, std::string_view(level.data(), level.size()),
                                         std::string_view(msg.logger_name.data(), msg.logger_name.size()),
                                         std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonLogFormatter>(); }
};

}  // namespace

std::string logLevelProblem(const std::string& level) {
  if (spdlog::level::from_str(level) != spdlog::level::off || level == "off") return "";
  return "log level '" + level + "' is not one of trace, debug, info, warn, error, off";
}

bool useColour(const char* no_color, bool stderr_is_terminal) {
  return stderr_is_terminal && (no_color == nullptr || *no_color == '\0');
}

std::string jsonLogLine(std::chrono::system_clock::time_point time, std::string_view level, std::string_view service,
                        std::string_view message) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[32];
  const size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(stamp + n, sizeof stamp - n, ".%03dZ", static_cast<int>(ms % 1000));
  nlohmann::ordered_json line{{"time", stamp}, {"level", level}, {"service", service}, {"message", message}};
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void initLogging(const std::string& service, const std::string& level, LogFormat format) {
  const bool colour = format == LogFormat::kText && useColour(std::getenv("NO_COLOR"), isatty(STDERR_FILENO));
  auto logger = spdlog::stderr_color_mt(service, colour ? spdlog::color_mode::automatic : spdlog::color_mode::never);
  spdlog::set_default_logger(logger);
  if (format == LogFormat::kJson) {
    spdlog::set_formatter(std::make_unique<JsonLogFormatter>());
  } else {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%L%$ [%n] %v");
  }
  if (std::string problem = logLevelProblem(level); !problem.empty()) throw std::invalid_argument(problem);
  spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace testfleet
