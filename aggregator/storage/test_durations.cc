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

// Whether the case is the one test a split: test id names: pytest's "dir/test_x.py::TestC::test_y[p]" (classname
// "dir.test_x.TestC", name "test_y[p]"), unittest's "pkg.module.Class.test_y" (classname "pkg.module.Class").
bool isTest(const v1::TestCase& c, const std::string& id) {
  if (const size_t sep = id.find("::"); sep != std::string::npos) {
    std::string expected = dottedModule(id.substr(0, sep));
    std::string rest = id.substr(sep + 2);
    for (size_t next = rest.find("::"); next != std::string::npos; next = rest.find("::")) {
      expected += "." + rest.substr(0, next);
      rest.erase(0, next + 2);
    }
    return c.classname() == expected && c.name() == rest;
  }
  return !c.classname().empty() && c.classname() + "." + c.name() == id;
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
    // The test id that names the case, else the first file it belongs to.
    int owner = -1;
    for (int i = 0; i < n && owner < 0; ++i) {
      if (isTest(c, result.tests(i))) owner = i;
    }
    for (int i = 0; i < n && owner < 0; ++i) {
      if (belongsTo(c.classname(), result.tests(i), dottedModule(result.tests(i)))) owner = i;
    }
    if (owner < 0) continue;
    weight[owner] += c.duration_ms();
    total += c.duration_ms();
  }
  for (int i = 0; i < n; ++i) {
    double share = total > 0 ? weight[i] / total : 1.0 / n;
    out.emplace_back(result.tests(i), static_cast<uint32_t>(std::lround(wall * share)));
  }
  return out;
}

}  // namespace testfleet::aggregator
