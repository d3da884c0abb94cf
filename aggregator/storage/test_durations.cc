#include "aggregator/storage/test_durations.h"

#include <cmath>

namespace testfleet::aggregator {
namespace {

// "dir/test_x.py" → "dir.test_x", the module name pytest and unittest put in a case's classname.
std::string dottedModule(const std::string& path) {
  std::string out = path;
  if (auto dot = out.rfind('.'); dot != std::string::npos && out.find('/', dot) == std::string::npos) out.resize(dot);
  for (char& c : out) {
    if (c == '/') c = '.';
  }
  return out;
}

bool belongsTo(const std::string& classname, const std::string& path, const std::string& module) {
  return classname == path || classname == module ||
         (classname.size() > module.size() && classname.starts_with(module) && classname[module.size()] == '.');
}

}  // namespace

std::vector<std::pair<std::string, uint32_t>> apportionToTests(const v1::Result& result) {
  std::vector<std::pair<std::string, uint32_t>> out;
  const uint32_t wall = result.usage().wall_ms();
  const int n = result.tests_size();
  if (n == 0) return out;
  if (n == 1) {
    out.emplace_back(result.tests(0), wall);
    return out;
  }
  std::vector<double> weight(n, 0.0);
  double total = 0;
  for (const auto& c : result.cases()) {
    for (int i = 0; i < n; ++i) {
      if (belongsTo(c.classname(), result.tests(i), dottedModule(result.tests(i)))) {
        weight[i] += c.duration_ms();
        total += c.duration_ms();
        break;
      }
    }
  }
  for (int i = 0; i < n; ++i) {
    double share = total > 0 ? weight[i] / total : 1.0 / n;
    out.emplace_back(result.tests(i), static_cast<uint32_t>(std::lround(wall * share)));
  }
  return out;
}

}  // namespace testfleet::aggregator
