#include <doctest/doctest.h>

#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cli_parse.h"
#include "common/cli_options.h"
#include "common/config.h"

using namespace testfleet;
using namespace std::chrono_literals;

namespace {

struct Settings {
  std::chrono::milliseconds grace{30s};
  std::vector<std::chrono::milliseconds> delays{10s, 60s, 5min};
  uint64_t memory = 2ull << 30;
  uint32_t cpu_millis = 1000;
};

struct Cli {
  CLI::App app{"test"};
  Settings settings;
  ClusterOptions cluster;
  Cli() {
    addYamlConfig(app);
    addClusterOptions(app, cluster);
    addDurationOption(app, "--grace", settings.grace, "how long");
    addDurationListOption(app, "--delays", settings.delays, 3, "one per step");
    addSizeOption(app, "--memory", settings.memory, "how much", {16 << 20});
    addScaledOption(app, "--cpus", settings.cpu_millis, 1000, "cores", CLI::Range(0.01, 1024.0));
  }
  // The message CLI11 gives, or "" when the parse succeeds.
  std::string parse(std::vector<std::string> args) { return testing::parseArgs(app, std::move(args)); }
};

}  // namespace

TEST_CASE("duration, size and scaled options bind to typed fields and show the field's default") {
  Cli cli;
  CHECK(cli.app.get_option("--grace")->get_default_str() == "30s");
  CHECK(cli.app.get_option("--delays")->get_default_str() == "10s,1m,5m");
  CHECK(cli.app.get_option("--memory")->get_default_str() == "2Gi");
  CHECK(cli.app.get_option("--cpus")->get_default_str() == "1");
  CHECK(cli.parse({"--grace", "5m", "--delays", "1s,2s,500ms", "--memory", "900Mi", "--cpus", "1.5"}) == "");
  CHECK(cli.settings.grace == 5min);
  CHECK(cli.settings.delays == std::vector<std::chrono::milliseconds>{1s, 2s, 500ms});
  CHECK(cli.settings.memory == 900ull << 20);
  CHECK(cli.settings.cpu_millis == 1500);
  CHECK(cli.cluster.brokers == "127.0.0.1:19092");  // untouched: the struct's default
}

TEST_CASE("a bad value fails the parse with a message naming the option and an example") {
  CHECK(Cli().parse({"--grace", "nonsense"}) == "--grace: 'nonsense' is not a duration such as 30s");
  CHECK(Cli().parse({"--memory", "1x"}) == "--memory: '1x' is not a size of at least 16Mi such as 2Gi");
  CHECK(Cli().parse({"--memory", "1Mi"}) == "--memory: '1Mi' is not a size of at least 16Mi such as 2Gi");
  CHECK(Cli().parse({"--delays", "1s,2s"}) == "--delays: needs 3 durations, such as 10s,1m,5m");
  CHECK(Cli().parse({"--delays", "1s,soon,2s"}).find("'soon' is not a duration") != std::string::npos);
  CHECK(Cli().parse({"--cpus", "0"}).find("--cpus") != std::string::npos);
  CHECK(Cli().parse({"--log-level", "loud"}).find("log level 'loud' is not one of") != std::string::npos);
  CHECK(Cli().parse({"--log-format", "xml"}) == "--log-format: 'xml' is not text or json");
}

TEST_CASE("durations and sizes come from the YAML config file and the environment too") {
  namespace fs = std::filesystem;
  fs::path file = fs::temp_directory_path() / ("tf-cli-options-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(file) << "grace: 90s\nmemory: 512Mi\ndelays: [1s, 2s, 3s]\n";
  {
    Cli cli;
    CHECK(cli.parse({"--config", file.string()}) == "");
    CHECK(cli.settings.grace == 90s);
    CHECK(cli.settings.memory == 512u << 20);
    CHECK(cli.settings.delays == std::vector<std::chrono::milliseconds>{1s, 2s, 3s});
  }
  std::ofstream(file) << "grace: later\n";
  CHECK(Cli().parse({"--config", file.string()}) == "--grace: 'later' is not a duration such as 30s");
  fs::remove(file);
  ::setenv("TESTFLEET_BROKERS", "kafka:9092", 1);
  Cli cli;
  CHECK(cli.parse({}) == "");
  ::unsetenv("TESTFLEET_BROKERS");
  CHECK(cli.cluster.brokers == "kafka:9092");
}

TEST_CASE("parseCommandLine returns 2 after a usage error, 0 after --help, nothing when the program goes on") {
  auto run = [](std::vector<const char*> args) {
    Cli cli;
    args.insert(args.begin(), "prog");
    return parseCommandLine(cli.app, static_cast<int>(args.size()), args.data());
  };
  CHECK(run({"--grace", "nonsense"}) == 2);
  CHECK(run({"--help"}) == 0);
  CHECK_FALSE(run({"--grace", "1s"}));
}

TEST_CASE("--log-format reads text or json into the enum, text by default") {
  Cli text;
  CHECK(text.parse({}) == "");
  CHECK(text.cluster.log_format == LogFormat::kText);
  CHECK(text.app.get_option("--log-format")->get_default_str() == "text");
  Cli json;
  CHECK(json.parse({"--log-format", "json"}) == "");
  CHECK(json.cluster.log_format == LogFormat::kJson);
}

TEST_CASE("librdkafka properties come from the config file's kafka: map, TESTFLEET_RDKAFKA_* and -X, in that order") {
  namespace fs = std::filesystem;
  const fs::path file = fs::temp_directory_path() / ("tf-kafka-props-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(file) << "kafka:\n  security.protocol: SASL_PLAINTEXT\n  sasl.mechanism: SCRAM-SHA-256\n"
                         "  sasl.username: from-file\n  sasl.password: hunter2\n";
  ::setenv("TESTFLEET_RDKAFKA_SASL_USERNAME", "from-env", 1);
  Cli cli;
  CHECK(cli.parse({"--config", file.string(), "-X", "sasl.mechanism=SCRAM-SHA-512", "-X", "linger.ms=9"}) == "");
  const KafkaProperties merged = kafkaProperties(cli.cluster);
  ::unsetenv("TESTFLEET_RDKAFKA_SASL_USERNAME");
  CHECK(merged == KafkaProperties{{"security.protocol", "SASL_PLAINTEXT"},
                                  {"sasl.mechanism", "SCRAM-SHA-512"},
                                  {"sasl.username", "from-env"},
                                  {"sasl.password", "hunter2"},
                                  {"linger.ms", "9"}});
  // A written config keeps the map and leaves the secret out.
  const std::string written = cli.app.config_to_str(false, false);
  CHECK(written.find("sasl.mechanism: SCRAM-SHA-256") != std::string::npos);
  CHECK(written.find("sasl.password: \"[redacted]\"") != std::string::npos);
  CHECK(written.find("hunter2") == std::string::npos);

  std::ofstream(file) << "kafka:\n  group.id: mine\n";
  CHECK(Cli().parse({"--config", file.string()}).find("cannot be set: use --group") != std::string::npos);
  CHECK(Cli().parse({"-X", "isolation.level=read_uncommitted"}).find("delivery guarantees") != std::string::npos);
  fs::remove(file);
}
