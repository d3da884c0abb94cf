// What preparing and using a python environment means, as text: the script that installs a declaration into a
// folder, the one that names the interpreter, the variables a job gets. Pure: no I/O, unit-tested.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "testfleet/v1/testfleet.pb.h"

namespace testfleet::worker {

// Where preparation finds packages: PyPI (the default), a mirror, a wheelhouse, or only the wheelhouse (offline).
struct PackageSources {
  std::string index_url;   // a PyPI mirror; empty = pip's default
  std::string find_links;  // a wheelhouse: a folder as the sandbox sees it (/cache/wheels) or a URL; empty = none
  bool offline = false;    // no index at all (only find_links), and no network for preparation
};

// A shell script, run with the environment's files in its working folder, that installs the declaration into
// `target`/python (pip --target) and writes `target`/packages.txt (pip's freeze format). The variables of `sources`
// come as PIP_* settings (pythonPreparationVariables).
std::string pythonPreparationScript(const v1::Environment& env, std::string_view target);
std::map<std::string, std::string> pythonPreparationVariables(const PackageSources& sources);

// Prints one line that names the interpreter jobs run (its path, full version and platform): part of every
// environment's key.
inline constexpr std::string_view kPythonIdentityScript =
    "python3 -c 'import sys, sysconfig; print(sys.executable, sys.version.replace(chr(10), \" \"), "
    "sysconfig.get_platform())'";

// The variables of a job that runs in an environment found at `env_root`, in a workspace at `work`: the installed
// packages and, for a src layout, the project's own src folder on PYTHONPATH (the project first), their scripts on
// PATH. A PYTHONPATH the job sets itself comes first.
std::map<std::string, std::string> pythonJobVariables(std::string_view env_root, std::string_view work, bool src_layout,
                                                      const std::map<std::string, std::string>& job_env);

// "name==version" lines of packages.txt, sorted; at most `max` of them, other lines ignored.
std::vector<std::string> parsePackages(std::string_view freeze, size_t max = 500);

}  // namespace testfleet::worker
