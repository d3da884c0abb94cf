#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "common/cli_options.h"
#include "common/kafka/client_settings.h"

using namespace testfleet;

namespace {
// The cluster options of a service after parsing `args`.
ClusterOptions parsed(std::vector<std::string> args) {
  CLI::App app{"test"};
  ClusterOptions cluster;
  addClusterOptions(app, cluster);
  args.insert(args.begin(), "prog");
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), argv.data());
  return cluster;
}
}  // namespace

TEST_CASE("a service's client settings carry its brokers, properties and how it makes topics") {
  const kafka::ClientSettings s = kafka::clientSettings(
      parsed({"--brokers", "k:9093", "-X", "security.protocol=SASL_PLAINTEXT", "--replication-factor", "3",
              "--partitions", "jobs=48,retry=6", "--partitions", "results=12"}),
      "testfleet-cli");
  CHECK(s.brokers == "k:9093");
  CHECK(s.client_id == "testfleet-cli");
  CHECK(s.properties == KafkaProperties{{"security.protocol", "SASL_PLAINTEXT"}});
  CHECK(s.topic_creation.create);
  CHECK(s.topic_creation.replication_factor == 3);
  CHECK(s.topic_creation.partitions == std::map<std::string, int>{{"jobs", 48}, {"retry", 6}, {"results", 12}});

  const kafka::ClientSettings least = kafka::clientSettings(parsed({"--no-create-topics"}), "w");
  CHECK_FALSE(least.topic_creation.create);
  CHECK(least.topic_creation.replication_factor == -1);  // the cluster's default.replication.factor

  // librdkafka's own verdict at start, before any client is built; a secret's value is not repeated.
  CHECK_THROWS_WITH_AS(kafka::clientSettings(parsed({"-X", "security.protocol=SASL_SSLX"}), "w"),
                       doctest::Contains("security.protocol=SASL_SSLX: Invalid value"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(kafka::clientSettings(parsed({"-X", "sasl.passwrod=hunter2"}), "w"),
                       "kafka config sasl.passwrod: No such configuration property: \"sasl.passwrod\"",
                       std::invalid_argument);

  for (const char* bad : {"control=4", "jobs", "jobs=0", "jobs=many", "job=4"}) {
    CHECK_THROWS_WITH_AS(kafka::clientSettings(parsed({"--partitions", bad}), "w"),
                         doctest::Contains("is not ROLE=N with a role of jobs, results, runs, dlq, retry"),
                         std::invalid_argument);
  }
}
