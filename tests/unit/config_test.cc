#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/config.h"

namespace fs = std::filesystem;

namespace {

struct Cli {
  CLI::App app{"test"};
  std::string brokers = "default:9092";
  int slots = 1;
  bool verbose = false, wait = false;
  std::vector<std::string> labels;
  Cli() {
    testfleet::addYamlConfig(app);
    app.add_option("--brokers", brokers)->envname("TF_CONFIG_TEST_BROKERS");
    app.add_option("--slots", slots);
    app.add_flag("--verbose", verbose);
    auto* submit = app.add_subcommand("submit");
    submit->add_flag("--wait", wait);
    submit->add_option("--label", labels);
  }
  void parse(std::vector<std::string> args) {
    args.insert(args.begin(), "prog");
    std::vector<const char*> argv;
    for (auto& a : args) argv.push_back(a.c_str());
    app.parse(static_cast<int>(argv.size()), argv.data());
  }
};

fs::path writeConfig(const std::string& text) {
  fs::path p = fs::temp_directory_path() / ("tf-config-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(p) << text;
  return p;
}

}  // namespace

TEST_CASE("a YAML file sets options by long name; flags and environment variables win over it") {
  auto file = writeConfig("brokers: kafka:9092\nslots: 4\nverbose: true\nsubmit:\n  wait: true\n  label: [a=1, b=2]\n");
  {
    Cli cli;
    cli.parse({"--config", file.string(), "submit"});
    CHECK(cli.brokers == "kafka:9092");
    CHECK(cli.slots == 4);
    CHECK(cli.verbose);
    CHECK(cli.wait);
    CHECK(cli.labels == std::vector<std::string>{"a=1", "b=2"});
  }
  {
    Cli cli;
    cli.parse({"--config", file.string(), "--slots", "9", "submit"});
    CHECK(cli.slots == 9);  // the command line wins
  }
  {
    ::setenv("TF_CONFIG_TEST_BROKERS", "from-env:1", 1);
    Cli cli;
    cli.parse({"--config", file.string(), "submit"});
    ::unsetenv("TF_CONFIG_TEST_BROKERS");
    CHECK(cli.brokers == "from-env:1");  // the environment wins over the file
  }
  fs::remove(file);
}

TEST_CASE("an unknown key or broken YAML in the config file is an error that says which") {
  auto file = writeConfig("brokers: kafka:9092\nslotz: 4\n");
  Cli cli;
  std::string message;
  try {
    cli.parse({"--config", file.string()});
  } catch (const CLI::ParseError& e) {
    message = e.what();
  }
  CHECK(message.find("line 2: unknown option 'slotz'") != std::string::npos);
  auto broken = writeConfig("brokers: [unclosed\n");
  Cli again;
  CHECK_THROWS_AS(again.parse({"--config", broken.string()}), CLI::ConfigError);
  fs::remove(broken);
}
