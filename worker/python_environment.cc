#include "worker/python_environment.h"

#include <algorithm>

#include "common/text.h"

namespace testfleet::worker {

namespace {

// Reads a pyproject.toml's [project] dependencies and the optional-dependencies groups named after it, one
// requirement per line (tomllib: Python 3.11 or later).
constexpr std::string_view kPyprojectDependencies = R"(python3 - "$@" <<'TF_PY'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    project = tomllib.load(f).get("project", {})
requirements = list(project.get("dependencies", []))
groups = project.get("optional-dependencies", {})
for extra in sys.argv[2:]:
    if extra not in groups:
        sys.exit(f"{sys.argv[1]} has no [project.optional-dependencies] group '{extra}'")
    requirements += groups[extra]
print("\n".join(requirements))
TF_PY
)";

}  // namespace

std::string pythonPreparationScript(const v1::Environment& env, std::string_view target) {
  const std::string dir = shellQuote(std::string(target) + "/python");
  std::string script = "set -e\nmkdir -p " + dir + "\n";
  std::string requirements;
  for (const auto& r : env.requirements()) requirements += " -r " + shellQuote(r);
  if (!env.pyproject().empty()) {
    std::string args = shellQuote(env.pyproject());
    for (const auto& e : env.extras()) args += " " + shellQuote(e);
    script += "tf_pyproject() {\n" + std::string(kPyprojectDependencies) + "}\n";
    script += "tf_pyproject " + args + " > /tmp/tf-pyproject-requirements.txt\n";
    requirements += " -r /tmp/tf-pyproject-requirements.txt";
  }
  script += "python3 -m pip install --disable-pip-version-check --no-input --no-warn-script-location --target " + dir +
            requirements + "\n";
  script += "python3 -m pip list --disable-pip-version-check --format=freeze --path " + dir + " > " +
            shellQuote(std::string(target) + "/packages.txt") + "\n";
  return script;
}

std::map<std::string, std::string> pythonPreparationVariables(const PackageSources& sources) {
  std::map<std::string, std::string> vars = {{"PIP_NO_CACHE_DIR", "1"}};  // HOME is a tmpfs that goes with the sandbox
  if (!sources.index_url.empty()) vars["PIP_INDEX_URL"] = sources.index_url;
  if (!sources.find_links.empty()) vars["PIP_FIND_LINKS"] = sources.find_links;
  if (sources.offline) vars["PIP_NO_INDEX"] = "1";
  return vars;
}

std::map<std::string, std::string> pythonJobVariables(std::string_view env_root, std::string_view work, bool src_layout,
                                                      const std::map<std::string, std::string>& job_env) {
  const std::string root(env_root);
  std::string path = src_layout ? std::string(work) + "/src:" + root + "/python" : root + "/python";
  if (auto own = job_env.find("PYTHONPATH"); own != job_env.end() && !own->second.empty()) {
    path = own->second + ":" + path;
  }
  std::string bin = root + "/python/bin:";
  bin += job_env.count("PATH") ? job_env.at("PATH") : "/usr/local/bin:/usr/bin:/bin";
  return {{"PYTHONPATH", path}, {"PATH", bin}, {"TESTFLEET_ENV", root}};
}

std::vector<std::string> parsePackages(std::string_view freeze, size_t max) {
  std::vector<std::string> packages;
  size_t start = 0;
  while (start < freeze.size() && packages.size() < max) {
    size_t end = freeze.find('\n', start);
    if (end == std::string_view::npos) end = freeze.size();
    std::string line(freeze.substr(start, end - start));
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto eq = line.find("==");
    const bool plain = line.size() <= 200 && std::all_of(line.begin(), line.end(), [](char c) {
                         return std::isalnum(static_cast<unsigned char>(c)) ||
                                std::string_view("-_.=+!").find(c) != std::string_view::npos;
                       });
    if (eq != std::string::npos && eq > 0 && plain) packages.push_back(line);
  }
  std::sort(packages.begin(), packages.end());
  return packages;
}

}  // namespace testfleet::worker
