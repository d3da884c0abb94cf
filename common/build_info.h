// What this binary is: the project's version (CMake's project VERSION) and the git commit it was built from, written
// into a generated source at every build (common/build_info.cmake), so --version tells which code is running.
#pragma once

#include <string>

namespace testfleet {

// "0.1.0".
std::string buildVersion();
// The commit's short hash, with "-dirty" when the tree had uncommitted changes; "" when not built from git.
std::string buildCommit();
// "testfleet-worker 0.1.0 (commit 1a2b3c4d5e6f)": the line --version prints.
std::string versionLine(const std::string& program);

}  // namespace testfleet
