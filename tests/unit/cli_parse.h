// Parses a command line with a CLI11 app as a test sees it: the message CLI11 gives, or "" when the parse succeeds.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace testfleet::testing {

inline std::string parseArgs(CLI::App& app, std::vector<std::string> args) {
  args.insert(args.begin(), "prog");
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  return "";
}

}  // namespace testfleet::testing
