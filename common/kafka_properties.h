// librdkafka properties an operator gives every service (security.protocol, sasl.*, ssl.*, tuning): a `kafka:` map
// in the --config file, TESTFLEET_RDKAFKA_<KEY> environment variables (…_SASL_USERNAME → sasl.username; so
// TESTFLEET_RDKAFKA_DEBUG is librdkafka's `debug`) and `-X key=value` flags, later ones winning in that order.
// A value "@/path" is read from that file at startup (one trailing newline dropped), so secrets stay out of config
// files and out of `ps`. Secret values (passwords, keys, JAAS/OAuth configs) are never printed:
// redactKafkaProperty() is what errors and written configs show. The keys testfleet sets itself for its delivery
// contract are refused, naming the option to use instead.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace testfleet {

using KafkaProperties = std::map<std::string, std::string>;

// "" when `assignment` is a usable "key=value"; otherwise what to fix (naming the key).
std::string kafkaPropertyProblem(const std::string& assignment);

// Whether the value of `key` is a secret that must not be shown.
bool isSecretKafkaProperty(const std::string& key);

// "key=value", or "key=[redacted]" for a secret, of a value as given: "@/path" (a file to read) is shown.
std::string redactKafkaProperty(const std::string& key, const std::string& value);
// The same for a value as librdkafka gets it (files already read): a secret is always "[redacted]".
std::string redactResolvedKafkaProperty(const std::string& key, const std::string& value);

// The TESTFLEET_RDKAFKA_<KEY>=value entries of `environment` (NAME=value strings, as in environ) as properties.
KafkaProperties kafkaPropertiesFromEnvironment(const std::vector<std::string>& environment);

// file < environment < flags, each a list of "key=value"; "@/path" values read from their files. Throws
// std::invalid_argument saying which key (or variable) and what is wrong; never with a secret in the message.
KafkaProperties mergeKafkaProperties(const std::vector<std::string>& from_file, const KafkaProperties& from_environment,
                                     const std::vector<std::string>& from_flags);

}  // namespace testfleet
