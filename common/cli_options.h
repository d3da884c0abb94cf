// Command-line options bound straight to typed settings fields, so a main declares options and nothing more:
// durations ("30s", "5m") into std::chrono::milliseconds, sizes ("2Gi", "900Ki") into byte counts, fractional units
// (cores, MiB) into integer fields. Each shows its field's value at declaration as the default (in --help and in
// a written config), so the settings struct is the one place that default lives. A bad value — on the command
// line, in the --config file or in an environment variable — fails the parse with a message that names the option
// and gives an example.
#pragma once

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/kafka_properties.h"
#include "common/log.h"

namespace testfleet {

struct SizeRange {
  uint64_t min = 0;
  uint64_t max = std::numeric_limits<uint64_t>::max();
};

// --name 30s → field. Values under `min` are refused too.
CLI::Option* addDurationOption(CLI::App& app, const std::string& name, std::chrono::milliseconds& field,
                               const std::string& description,
                               std::chrono::milliseconds min = std::chrono::milliseconds(0));

// --name 10s,60s,5m (or a YAML list) → field; exactly `count` durations.
CLI::Option* addDurationListOption(CLI::App& app, const std::string& name,
                                   std::vector<std::chrono::milliseconds>& field, size_t count,
                                   const std::string& description);

// --name 2Gi → field, in bytes, within `range`. (size_t and uint64_t are one type on the platforms we build for.)
CLI::Option* addSizeOption(CLI::App& app, const std::string& name, uint64_t& field, const std::string& description,
                           SizeRange range = {});

std::string formatNumber(double n);

// --name 1.5 (in units of `unit` smaller ones) → field: --cpus 1.5 with unit 1000 sets 1500 millicores.
// `check` bounds the number given (CLI::Range(0.01, 1024.0), CLI::PositiveNumber).
template <typename Int>
CLI::Option* addScaledOption(CLI::App& app, const std::string& name, Int& field, double unit,
                             const std::string& description, const CLI::Validator& check) {
  return app
      .add_option_function<double>(
          name, [&field, unit](double n) { field = static_cast<Int>(n * unit); }, description)
      ->check(check)
      ->default_str(formatNumber(static_cast<double>(field) / unit));
}

// Where every service finds Kafka and how it logs: --brokers, --topic-prefix (also from TESTFLEET_BROKERS and
// TESTFLEET_TOPIC_PREFIX), --connect-timeout, --log-level and --log-format; the librdkafka properties of
// common/kafka_properties.h (`-X key=value`, repeatable, and the config file's `kafka:` map); and how topics are
// made: --replication-factor, --partitions ROLE=N, --no-create-topics.
struct ClusterOptions {
  std::string brokers = "127.0.0.1:19092";
  std::string topic_prefix = "testfleet";
  std::vector<std::string> kafka_from_file;   // the config file's kafka: map, as key=value
  std::vector<std::string> kafka_from_flags;  // -X key=value
  bool no_create_topics = false;              // only check the topics exist
  int replication_factor = -1;                // of the topics this service creates; -1: the broker's default
  std::vector<std::string> partitions;        // ROLE=N: jobs=48 (checked against the roles by kafka::clientSettings)
  std::string log_level = "info";
  LogFormat log_format = LogFormat::kText;
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(10);  // for ClientSettings::connect_timeout
};
void addClusterOptions(CLI::App& app, ClusterOptions& cluster);

// The librdkafka properties of `cluster` and of this process's TESTFLEET_RDKAFKA_* environment, merged and with
// "@/path" values read (mergeKafkaProperties). Throws std::invalid_argument saying what to fix.
KafkaProperties kafkaProperties(const ClusterOptions& cluster);

// --version: prints versionLine(program) (common/build_info.h) and exits 0.
void addVersionFlag(CLI::App& app, const std::string& program);

// Parses the command line (and the config file and environment variables it reads). After --help or a bad value it
// has printed what to fix and returns the exit code: 0 after --help, 2 (usage) otherwise; nullopt when the program
// goes on.
std::optional<int> parseCommandLine(CLI::App& app, int argc, const char* const* argv);

}  // namespace testfleet
