#include <doctest/doctest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "common/kafka_properties.h"

using namespace testfleet;
namespace fs = std::filesystem;

namespace {
// The message mergeKafkaProperties throws, or "" when it merges.
std::string mergeProblem(const std::vector<std::string>& file, const KafkaProperties& env,
                         const std::vector<std::string>& flags) {
  try {
    mergeKafkaProperties(file, env, flags);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("a kafka property is key=value, and the keys of testfleet's delivery contract are refused") {
  CHECK(kafkaPropertyProblem("security.protocol=SASL_SSL") == "");
  CHECK(kafkaPropertyProblem("sasl.password=@/run/secrets/kafka") == "");
  CHECK(kafkaPropertyProblem("linger.ms=") == "");  // librdkafka decides whether empty is allowed
  CHECK(kafkaPropertyProblem("security.protocol").find("is not key=value") != std::string::npos);
  CHECK(kafkaPropertyProblem("=x").find("is not key=value") != std::string::npos);
  CHECK(kafkaPropertyProblem("sasl password=x").find("is not a librdkafka property name") != std::string::npos);
  CHECK(kafkaPropertyProblem("bootstrap.servers=a:9092").find("use --brokers") != std::string::npos);
  CHECK(kafkaPropertyProblem("group.id=g").find("use --group") != std::string::npos);
  CHECK(kafkaPropertyProblem("transactional.id=t").find("use --transactional-id-prefix") != std::string::npos);
  CHECK(kafkaPropertyProblem("isolation.level=read_uncommitted").find("delivery guarantees") != std::string::npos);
  CHECK(kafkaPropertyProblem("enable.auto.commit=true").find("delivery guarantees") != std::string::npos);
  CHECK(kafkaPropertyProblem("dr_cb=x").find("callback") != std::string::npos);
  CHECK(kafkaPropertyProblem("sasl.password=@").find("'@' needs a path") != std::string::npos);
}

TEST_CASE("secret values are redacted, other values and secret file paths are shown") {
  CHECK(isSecretKafkaProperty("sasl.password"));
  CHECK(isSecretKafkaProperty("ssl.key.password"));
  CHECK(isSecretKafkaProperty("ssl.key.pem"));
  CHECK(isSecretKafkaProperty("sasl.oauthbearer.client.secret"));
  CHECK(isSecretKafkaProperty("sasl.oauthbearer.config"));
  CHECK_FALSE(isSecretKafkaProperty("sasl.username"));
  CHECK_FALSE(isSecretKafkaProperty("ssl.ca.location"));
  CHECK(redactKafkaProperty("sasl.password", "hunter2") == "sasl.password=[redacted]");
  CHECK(redactKafkaProperty("sasl.password", "@/run/secret") == "sasl.password=@/run/secret");
  CHECK(redactResolvedKafkaProperty("sasl.password", "@starts-like-a-path") == "sasl.password=[redacted]");
  CHECK(redactResolvedKafkaProperty("sasl.username", "worker") == "sasl.username=worker");
  CHECK(redactKafkaProperty("sasl.username", "worker") == "sasl.username=worker");
}

TEST_CASE("TESTFLEET_RDKAFKA_<KEY> variables name properties with dots for underscores, in lower case") {
  const KafkaProperties env = kafkaPropertiesFromEnvironment(
      {"TESTFLEET_RDKAFKA_SASL_USERNAME=worker", "TESTFLEET_RDKAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT",
       "TESTFLEET_KAFKA_PORT=19092", "TESTFLEET_BROKERS=a:9092", "PATH=/bin", "TESTFLEET_RDKAFKA_DEBUG=cgrp"});
  CHECK(env ==
        KafkaProperties{{"sasl.username", "worker"}, {"security.protocol", "SASL_PLAINTEXT"}, {"debug", "cgrp"}});
}

TEST_CASE("properties merge file < environment < flags, and @/path values are read from the file") {
  const fs::path secret = fs::temp_directory_path() / ("tf-kafka-secret-" + std::to_string(::getpid()));
  std::ofstream(secret) << "s3cret\n";
  const KafkaProperties merged =
      mergeKafkaProperties({"security.protocol=SASL_SSL", "sasl.username=file", "linger.ms=7"},
                           {{"sasl.username", "env"}, {"sasl.mechanism", "SCRAM-SHA-512"}},
                           {"sasl.mechanism=SCRAM-SHA-256", "sasl.password=@" + secret.string()});
  CHECK(merged == KafkaProperties{{"security.protocol", "SASL_SSL"},
                                  {"sasl.username", "env"},
                                  {"linger.ms", "7"},
                                  {"sasl.mechanism", "SCRAM-SHA-256"},
                                  {"sasl.password", "s3cret"}});  // one trailing newline dropped
  fs::remove(secret);

  // A secret's unreadable "file" may be an inline secret starting with '@': its text is not repeated.
  const std::string unread = mergeProblem({}, {}, {"sasl.password=@" + secret.string()});
  CHECK(unread.starts_with("kafka property sasl.password: cannot read the file its value names"));
  CHECK(unread.find(secret.string()) == std::string::npos);
  CHECK(mergeProblem({}, {}, {"ssl.ca.location=@" + secret.string()}) ==
        "kafka property ssl.ca.location: cannot read the file " + secret.string());
  // Another separator than '=': the text after it (perhaps the password) is not repeated.
  CHECK(kafkaPropertyProblem("sasl.password:hunter2").find("hunter2") == std::string::npos);
  // Errors name where the property came from, never a secret value.
  CHECK(mergeProblem({"group.id=x"}, {}, {}).starts_with("config file, kafka: "));
  CHECK(mergeProblem({}, {{"enable.idempotence", "false"}}, {}).starts_with("TESTFLEET_RDKAFKA_ENABLE_IDEMPOTENCE: "));
  const std::string bad = mergeProblem({}, {}, {"sasl password=hunter2"});
  CHECK(bad.starts_with("-X: "));
  CHECK(bad.find("hunter2") == std::string::npos);
}
