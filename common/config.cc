#include "common/config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <functional>
#include <iterator>
#include <memory>

#include "common/kafka_properties.h"

namespace testfleet {
namespace {

// Whether parents + key names an option (rather than a subcommand).
using IsOption = std::function<bool(const std::vector<std::string>& parents, const std::string& key)>;

void collect(const YAML::Node& map, std::vector<std::string>& parents, std::vector<CLI::ConfigItem>& out,
             std::vector<int>& lines, const IsOption& is_option) {
  for (const auto& kv : map) {
    if (!kv.first.IsScalar())
      throw CLI::ConfigError("config: keys must be option names (line " + std::to_string(kv.first.Mark().line + 1) +
                             ")");
    const std::string key = kv.first.Scalar();
    const YAML::Node& value = kv.second;
    const std::string where = key + " (line " + std::to_string(kv.first.Mark().line + 1) + ")";
    CLI::ConfigItem item;
    item.parents = parents;
    item.name = key;
    if (value.IsMap() && !is_option(parents, key)) {  // a subcommand's options
      parents.push_back(key);
      collect(value, parents, out, lines, is_option);
      parents.pop_back();
      continue;
    }
    if (value.IsMap()) {  // an option of key=value pairs, such as kafka: {security.protocol: SASL_SSL}
      for (const auto& pair : value) {
        if (!pair.first.IsScalar() || !pair.second.IsScalar())
          throw CLI::ConfigError("config: " + where + " must map names to plain values");
        item.inputs.push_back(pair.first.Scalar() + "=" + pair.second.Scalar());
      }
    } else if (value.IsScalar()) {
      item.inputs.push_back(value.Scalar());
    } else if (value.IsSequence()) {
      for (const auto& v : value) {
        if (!v.IsScalar()) throw CLI::ConfigError("config: " + where + " must be a list of plain values");
        item.inputs.push_back(v.Scalar());
      }
    } else {
      throw CLI::ConfigError("config: " + where + " has no value");
    }
    out.push_back(std::move(item));
    lines.push_back(kv.first.Mark().line + 1);
  }
}

}  // namespace

std::vector<CLI::ConfigItem> YamlConfig::from_config(std::istream& input) const {
  std::string text((std::istreambuf_iterator<char>(input)), std::istreambuf_iterator<char>());
  if (text.size() > (1 << 20)) throw CLI::ConfigError("config: the file is over 1 MiB");
  YAML::Node doc;
  try {
    doc = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw CLI::ConfigError("config: not valid YAML at line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  std::vector<CLI::ConfigItem> items;
  if (doc.IsNull()) return items;
  if (!doc.IsMap()) throw CLI::ConfigError("config: the file must be a mapping of option names to values");
  std::vector<std::string> parents;
  std::vector<int> lines;
  collect(doc, parents, items, lines, [this](const std::vector<std::string>& under, const std::string& key) {
    CLI::ConfigItem item;
    item.parents = under;
    item.name = key;
    return option(item) != nullptr;
  });
  for (size_t i = 0; i < items.size(); ++i) {
    if (!known(items[i])) {
      throw CLI::ConfigError("config: line " + std::to_string(lines[i]) + ": unknown option '" + items[i].fullname() +
                             "' (the keys are the long option names of --help, without dashes)");
    }
  }
  std::erase_if(items, [this](const CLI::ConfigItem& item) { return setByEnvironment(item); });
  return items;
}

const CLI::Option* YamlConfig::option(const CLI::ConfigItem& item) const {
  const CLI::App* app = app_;
  if (!app) return nullptr;
  for (const auto& parent : item.parents) {
    auto subs = app->get_subcommands([&](const CLI::App* sub) { return sub->get_name() == parent; });
    if (subs.empty()) return nullptr;
    app = subs.front();
  }
  return app->get_option_no_throw("--" + item.name);
}

bool YamlConfig::known(const CLI::ConfigItem& item) const { return !app_ || option(item) != nullptr; }

bool YamlConfig::setByEnvironment(const CLI::ConfigItem& item) const {
  const CLI::Option* opt = option(item);
  return opt && !opt->get_envname().empty() && std::getenv(opt->get_envname().c_str()) != nullptr;
}

std::string YamlConfig::to_config(const CLI::App* app, bool default_also, bool, std::string prefix) const {
  std::string out;
  for (const CLI::Option* opt : app->get_options()) {
    if (!opt->get_configurable() || opt->get_lnames().empty() || opt->get_lnames()[0] == "config") continue;
    std::vector<std::string> values = opt->results();
    if (values.empty() && default_also && !opt->get_default_str().empty()) values = {opt->get_default_str()};
    if (values.empty()) continue;
    if (opt->get_lnames()[0] == "kafka") {  // librdkafka properties, written as a map with secrets left out
      out += prefix + "kafka:\n";
      for (const auto& v : values) {
        const size_t eq = v.find('=');
        const std::string shown = redactKafkaProperty(v.substr(0, eq), eq == std::string::npos ? "" : v.substr(eq + 1));
        out += prefix + "  " + shown.substr(0, eq) + ": " + YAML::Dump(YAML::Node(shown.substr(eq + 1))) + "\n";
      }
      continue;
    }
    out += prefix + opt->get_lnames()[0] + ":";
    if (values.size() == 1) {
      out += " " + YAML::Dump(YAML::Node(values[0])) + "\n";
    } else {
      out += "\n";
      for (const auto& v : values) out += prefix + "  - " + YAML::Dump(YAML::Node(v)) + "\n";
    }
  }
  for (const CLI::App* sub : app->get_subcommands([](const CLI::App*) { return true; })) {
    std::string inner = to_config(sub, default_also, false, prefix + "  ");
    if (!inner.empty()) out += prefix + sub->get_name() + ":\n" + inner;
  }
  return out;
}

void addYamlConfig(CLI::App& app) {
  app.config_formatter(std::make_shared<YamlConfig>(&app));
  app.allow_config_extras(CLI::config_extras_mode::error);
  app.set_config("--config", "", "YAML file with any of these options, by long name (flags and env vars win)");
}

}  // namespace testfleet
