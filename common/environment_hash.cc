#include "common/environment_hash.h"

#include <algorithm>
#include <vector>

#include "common/bundle.h"

namespace testfleet {

std::string environmentSha256(const v1::Environment& env) {
  // A line per fact, each sorted, every variable part hashed or length-prefixed so no two declarations meet.
  auto field = [](std::string_view name, std::string_view value) {
    return std::string(name) + " " + std::to_string(value.size()) + ":" + std::string(value) + "\n";
  };
  std::vector<std::string> files, requirements(env.requirements().begin(), env.requirements().end()),
      extras(env.extras().begin(), env.extras().end());
  for (const auto& f : env.files()) files.push_back(field("file", f.path()) + "  " + sha256Hex(f.content()) + "\n");
  for (auto* list : {&files, &requirements, &extras}) std::sort(list->begin(), list->end());
  std::string text = "testfleet environment 1\n";
  for (const auto& f : files) text += f;
  for (const auto& r : requirements) text += field("requirements", r);
  text += field("pyproject", env.pyproject());
  for (const auto& e : extras) text += field("extra", e);
  return sha256Hex(text);
}

std::string environmentKey(const v1::Environment& env, std::string_view interpreter) {
  return sha256Hex(environmentSha256(env) + "\ninterpreter " + std::string(interpreter));
}

}  // namespace testfleet
