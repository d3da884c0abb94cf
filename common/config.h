// One YAML file per service, as DESIGN.md says: `--config FILE`, whose keys are the services' long option names
// without dashes ("brokers: host:9092", "slots: 4"), a subcommand's options nested under its name
// ("submit: {wait: true}"). Flags and environment variables override what the file says. A key the service does
// not know is an error that names it.
#pragma once

#include <CLI/CLI.hpp>

#include <istream>
#include <string>
#include <vector>

namespace testfleet {

class YamlConfig : public CLI::Config {
 public:
  // app: to leave out keys whose option's environment variable is set (CLI11 would let the file win).
  explicit YamlConfig(const CLI::App* app = nullptr) : app_(app) {}
  std::string to_config(const CLI::App* app, bool default_also, bool write_description,
                        std::string prefix) const override;
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override;

 private:
  const CLI::Option* option(const CLI::ConfigItem& item) const;
  bool known(const CLI::ConfigItem& item) const;
  bool setByEnvironment(const CLI::ConfigItem& item) const;
  const CLI::App* app_;
};

// Adds --config to app (and its subcommands) with YAML as the format and unknown keys refused.
void addYamlConfig(CLI::App& app);

}  // namespace testfleet
