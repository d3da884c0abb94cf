#include "common/kafka_properties.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace testfleet {
namespace {

constexpr std::string_view kEnvironmentPrefix = "TESTFLEET_RDKAFKA_";

// Set by testfleet itself: changing them would break delivery (exactly-once results, no lost jobs) or the
// option that owns them.
std::string ownedBy(const std::string& key) {
  if (key == "bootstrap.servers" || key == "metadata.broker.list") return "use --brokers";
  if (key == "group.id") return "use --group";
  if (key == "transactional.id") return "use --transactional-id-prefix";
  static const std::array<std::string_view, 8> contract = {"enable.idempotence",     "isolation.level",
                                                           "enable.auto.commit",     "enable.auto.offset.store",
                                                           "auto.offset.reset",      "partition.assignment.strategy",
                                                           "transaction.timeout.ms", "client.id"};
  for (auto owned : contract) {
    if (key == owned) return "testfleet sets it for its delivery guarantees";
  }
  if (key.ends_with("_cb") || key == "opaque") return "a callback cannot be given as text";
  return "";
}

std::string readSecretFile(const std::string& key, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in && isSecretKafkaProperty(key)) {
    // Not the path: it may be an inline secret that happens to start with '@'.
    throw std::invalid_argument("kafka property " + key +
                                ": cannot read the file its value names after '@' (a secret given inline cannot "
                                "start with '@': put it in a file and give @/path)");
  }
  if (!in) throw std::invalid_argument("kafka property " + key + ": cannot read the file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  std::string value = text.str();
  if (value.ends_with('\n')) value.pop_back();
  if (value.ends_with('\r')) value.pop_back();
  return value;
}

void put(KafkaProperties& into, const std::string& assignment, const std::string& where) {
  if (std::string problem = kafkaPropertyProblem(assignment); !problem.empty()) {
    throw std::invalid_argument(where + ": " + problem);
  }
  const size_t eq = assignment.find('=');
  into[assignment.substr(0, eq)] = assignment.substr(eq + 1);
}

}  // namespace

std::string kafkaPropertyProblem(const std::string& assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    // At most the start of a name: the text may be a secret written with another separator ("sasl.password:x").
    const std::string start = assignment.substr(0, std::min<size_t>(assignment.find_first_of(": \t"), 64));
    return "'" + start + "…' is not key=value, such as security.protocol=SASL_SSL";
  }
  const std::string key = assignment.substr(0, eq);
  for (char c : key) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return "'" + key + "' is not a librdkafka property name such as sasl.mechanism";
    }
  }
  if (std::string owner = ownedBy(key); !owner.empty()) return "kafka property " + key + " cannot be set: " + owner;
  if (assignment.size() == eq + 2 && assignment[eq + 1] == '@') return "kafka property " + key + ": '@' needs a path";
  return "";
}

bool isSecretKafkaProperty(const std::string& key) {
  for (std::string_view word : {"password", "secret", "jaas", "key.pem", "ssl_key", "oauthbearer.config", "token"}) {
    if (key.find(word) != std::string::npos) return true;
  }
  return false;
}

std::string redactKafkaProperty(const std::string& key, const std::string& value) {
  if (!isSecretKafkaProperty(key) || value.starts_with('@')) return key + "=" + value;  // a path is no secret
  return key + "=[redacted]";
}

std::string redactResolvedKafkaProperty(const std::string& key, const std::string& value) {
  return isSecretKafkaProperty(key) ? key + "=[redacted]" : key + "=" + value;
}

KafkaProperties kafkaPropertiesFromEnvironment(const std::vector<std::string>& environment) {
  KafkaProperties out;
  for (const auto& entry : environment) {
    const size_t eq = entry.find('=');
    if (eq == std::string::npos || !entry.starts_with(kEnvironmentPrefix)) continue;
    std::string key = entry.substr(kEnvironmentPrefix.size(), eq - kEnvironmentPrefix.size());
    for (char& c : key) c = c == '_' ? '.' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out[key] = entry.substr(eq + 1);
  }
  return out;
}

KafkaProperties mergeKafkaProperties(const std::vector<std::string>& from_file, const KafkaProperties& from_environment,
                                     const std::vector<std::string>& from_flags) {
  KafkaProperties merged;
  for (const auto& a : from_file) put(merged, a, "config file, kafka");
  for (const auto& [key, value] : from_environment) {
    std::string name(kEnvironmentPrefix);
    for (char c : key) name += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    put(merged, key + "=" + value, name);
  }
  for (const auto& a : from_flags) put(merged, a, "-X");
  for (auto& [key, value] : merged) {
    if (value.starts_with('@')) value = readSecretFile(key, value.substr(1));
  }
  return merged;
}

}  // namespace testfleet
