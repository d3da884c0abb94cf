#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "cli_parse.h"
#include "producer/producer_commands.h"
#include "temp_dir.h"

using namespace testfleet;
using namespace std::chrono_literals;

namespace {

struct Cli {
  CLI::App app{"testfleet"};
  producer::ProducerCommands commands;
  Cli() { producer::addProducerCommands(app, commands); }
  // The message CLI11 gives, or "" when the parse succeeds.
  std::string parse(std::vector<std::string> args) { return testing::parseArgs(app, std::move(args)); }
};

}  // namespace

TEST_CASE("the cluster's options are accepted before or after the subcommand, as the README lists them") {
  testing::TempDir dir("producer-commands");
  std::filesystem::create_directories(dir.path);
  const std::string suite = (dir.path / "suite.yaml").string();
  std::ofstream(suite) << "name: s\n";
  {
    Cli cli;
    CHECK(cli.parse({"submit", suite, "--brokers", "kafka:29092", "--topic-prefix", "ci", "--wait", "--connect-timeout",
                     "2s", "--log-level", "debug"}) == "");
    CHECK(*cli.commands.submit_command);
    CHECK(cli.commands.submit.suite_file == suite);
    CHECK(cli.commands.submit.wait);
    CHECK(cli.commands.cluster.brokers == "kafka:29092");
    CHECK(cli.commands.cluster.topic_prefix == "ci");
    CHECK(cli.commands.cluster.connect_timeout == 2s);
    CHECK(cli.commands.cluster.log_level == "debug");
  }
  {
    Cli cli;
    CHECK(cli.parse({"--brokers", "kafka:29092", "submit", suite}) == "");
    CHECK(cli.commands.cluster.brokers == "kafka:29092");
  }
  {
    Cli cli;
    CHECK(cli.parse({"cancel", "run-1", "--brokers", "kafka:29092"}) == "");
    CHECK(cli.commands.cancel_run_id == "run-1");
    CHECK(cli.commands.cluster.brokers == "kafka:29092");
  }
  {
    Cli cli;
    CHECK(cli.parse({"dlq", "list", "--json", "--topic-prefix", "ci"}) == "");
    CHECK(cli.commands.dlq_json);
    CHECK(cli.commands.cluster.topic_prefix == "ci");
  }
  // A submit option stays the subcommand's: before it, it is unknown.
  CHECK(Cli().parse({"--wait", "submit", suite}).find("--wait") != std::string::npos);
  CHECK(Cli().parse({"submit", suite, "--no-such-option"}).find("--no-such-option") != std::string::npos);
}
