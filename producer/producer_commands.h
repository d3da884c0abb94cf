// The `testfleet` command line: `submit`, `cancel`, `topics` and `dlq list|replay`, declared straight into the settings
// each command runs with (SubmitOptions, FollowSettings), whose defaults live in those structs.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "common/cli_options.h"
#include "producer/submit.h"

namespace testfleet::producer {

struct ProducerCommands {
  ClusterOptions cluster{.log_level = "warn"};  // a CI log wants the verdict, not the chatter
  SubmitOptions submit;                         // its kafka and topic_prefix come from `cluster` after the parse
  std::string api_token_file;
  bool dlq_json = false;
  std::vector<std::string> replay_which;
  std::string cancel_run_id;
  CLI::App* submit_command = nullptr;
  CLI::App* topics_command = nullptr;
  CLI::App* dlq_command = nullptr;
  CLI::App* dlq_list_command = nullptr;
  CLI::App* cancel_command = nullptr;
};

void addProducerCommands(CLI::App& app, ProducerCommands& commands);

}  // namespace testfleet::producer
