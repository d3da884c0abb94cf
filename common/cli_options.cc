#include "common/cli_options.h"

#include <unistd.h>

#include "common/build_info.h"
#include "common/duration.h"
#include "common/log.h"

namespace testfleet {
namespace {

// CLI11 puts the option's name in front: "--grace: 'soon' is not a duration such as 30s".
CLI::Validator durationValidator(std::chrono::milliseconds min, const std::string& example) {
  return CLI::Validator(
      [min, example](std::string& text) -> std::string {
        auto d = parseDuration(text);
        if (!d) return "'" + text + "' is not a duration such as " + example;
        if (*d < min) return "'" + text + "' is shorter than " + formatDuration(min) + " (such as " + example + ")";
        return "";
      },
      "");
}

std::string sizeRule(const SizeRange& range) {
  const bool has_min = range.min > 0, has_max = range.max < std::numeric_limits<uint64_t>::max();
  if (has_min && has_max) return " from " + formatBytes(range.min) + " to " + formatBytes(range.max);
  if (has_min) return " of at least " + formatBytes(range.min);
  if (has_max) return " of at most " + formatBytes(range.max);
  return "";
}

}  // namespace

std::string formatNumber(double n) {
  std::ostringstream out;
  out << n;
  return out.str();
}

CLI::Option* addDurationOption(CLI::App& app, const std::string& name, std::chrono::milliseconds& field,
                               const std::string& description, std::chrono::milliseconds min) {
  const std::string example = formatDuration(std::max(field, min));
  return app
      .add_option_function<std::string>(
          name, [&field](const std::string& text) { field = *parseDuration(text); }, description)
      ->type_name("DURATION")
      ->check(durationValidator(min, example))
      ->default_str(formatDuration(field));
}

CLI::Option* addDurationListOption(CLI::App& app, const std::string& name,
                                   std::vector<std::chrono::milliseconds>& field, size_t count,
                                   const std::string& description) {
  std::string shown;
  for (const auto& d : field) shown += (shown.empty() ? "" : ",") + formatDuration(d);
  return app
      .add_option_function<std::vector<std::string>>(
          name,
          [&field, count, name, shown](const std::vector<std::string>& texts) {
            if (texts.size() != count) {
              throw CLI::ValidationError(name, "needs " + std::to_string(count) + " durations, such as " + shown);
            }
            field.clear();
            for (const auto& text : texts) field.push_back(*parseDuration(text));
          },
          description)
      ->type_name("DURATION,...")
      ->delimiter(',')
      ->check(durationValidator(std::chrono::milliseconds(0), "10s"))
      ->default_str(shown);
}

CLI::Option* addSizeOption(CLI::App& app, const std::string& name, uint64_t& field, const std::string& description,
                           SizeRange range) {
  const std::string example = formatBytes(field);
  CLI::Validator size(
      [range, example](std::string& text) -> std::string {
        auto bytes = parseBytes(text);
        if (bytes && *bytes >= range.min && *bytes <= range.max) return "";
        return "'" + text + "' is not a size" + sizeRule(range) + " such as " + example;
      },
      "");
  return app
      .add_option_function<std::string>(
          name, [&field](const std::string& text) { field = *parseBytes(text); }, description)
      ->type_name("SIZE")
      ->check(size)
      ->default_str(example);
}

void addClusterOptions(CLI::App& app, ClusterOptions& cluster) {
  app.add_option("--brokers", cluster.brokers, "Kafka bootstrap servers")
      ->envname("TESTFLEET_BROKERS")
      ->capture_default_str();
  app.add_option("--topic-prefix", cluster.topic_prefix, "prefix of the topic names")
      ->envname("TESTFLEET_TOPIC_PREFIX")
      ->capture_default_str();
  const CLI::Validator property([](std::string& assignment) { return kafkaPropertyProblem(assignment); }, "");
  // The file's kafka: map and -X are two options so that -X adds to the file's properties (CLI11 ignores a file's
  // value of an option given on the command line).
  app.add_option("-X", cluster.kafka_from_flags,
                 "a librdkafka property, such as -X security.protocol=SASL_SSL or -X sasl.password=@/run/secret "
                 "(read from that file); repeatable; wins over TESTFLEET_RDKAFKA_<KEY> variables and the config "
                 "file's kafka: map")
      ->type_name("KEY=VALUE")
      ->check(property)
      ->configurable(false);
  app.add_option("--kafka", cluster.kafka_from_file, "(the config file's kafka: map of librdkafka properties)")
      ->type_name("KEY=VALUE")
      ->check(property)
      ->group("");
  app.add_flag("--no-create-topics", cluster.no_create_topics,
               "do not create missing topics (a client without the right to): check they exist, and fail naming "
               "those that do not");
  app.add_option("--replication-factor", cluster.replication_factor,
                 "replication factor of the topics it creates; -1: the cluster's default.replication.factor")
      ->check(CLI::IsMember({-1}) | CLI::Range(1, 32))
      ->capture_default_str();
  app.add_option("--partitions", cluster.partitions,
                 "partitions of the topics it creates, by role: jobs=48, results, runs, dlq, retry (defaults 12, 6, "
                 "3, 1, 3); repeatable or comma-separated")
      ->type_name("ROLE=N")
      ->delimiter(',');
  addDurationOption(app, "--connect-timeout", cluster.connect_timeout,
                    "how long to try reaching a broker at start before saying why it cannot (a name that does not "
                    "resolve, a refused connection, no answer)",
                    std::chrono::milliseconds(1));
  app.add_option("--log-level", cluster.log_level, "trace|debug|info|warn|error")
      ->check(CLI::Validator([](std::string& level) { return logLevelProblem(level); }, ""))
      ->type_name("LEVEL")
      ->capture_default_str();
  app.add_option_function<std::string>(
         "--log-format",
         [&cluster](const std::string& format) {
           cluster.log_format = format == "json" ? LogFormat::kJson : LogFormat::kText;
         },
         "text (coloured on a terminal unless NO_COLOR is set) or json (one object per line: time, level, service, "
         "message)")
      ->check(CLI::Validator(
          [](std::string& format) -> std::string {
            return format == "text" || format == "json" ? "" : "'" + format + "' is not text or json";
          },
          ""))
      ->type_name("FORMAT")
      ->default_str(cluster.log_format == LogFormat::kJson ? "json" : "text");
}

KafkaProperties kafkaProperties(const ClusterOptions& cluster) {
  std::vector<std::string> environment;
  for (char** entry = environ; *entry; ++entry) environment.emplace_back(*entry);
  return mergeKafkaProperties(cluster.kafka_from_file, kafkaPropertiesFromEnvironment(environment),
                              cluster.kafka_from_flags);
}

void addVersionFlag(CLI::App& app, const std::string& program) {
  app.set_version_flag("--version", versionLine(program), "print the version (and git commit) and exit");
}

std::optional<int> parseCommandLine(CLI::App& app, int argc, const char* const* argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return std::nullopt;
}

}  // namespace testfleet
