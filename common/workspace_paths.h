// The rules every walk and every write of a job's workspace follows. The producer lists and bundles a folder, the
// worker unpacks bundles and writes the job's files and artifacts: they all ask here, so they agree.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace testfleet {

// A path from an untrusted suite, archive or sandbox that stays inside the folder it is joined to: not empty, at
// most `max_bytes`, no NUL, not absolute, no "..", "." or empty parts ("a//b"). A trailing "/" (a folder) is allowed.
bool isSafeRelativePath(std::string_view path, size_t max_bytes = 1024);

// The parts of a slash-separated path, empty parts dropped: "a//b/" → {"a", "b"}.
std::vector<std::string> pathParts(std::string_view path);

// A file or folder name under which the directory form looks for no tests (a folder with everything below it):
// hidden entries, __pycache__ and node_modules — a dependency's or a virtualenv's tests are not the project's.
// Bundles still carry them (what a bundle leaves out is bundleRules' patterns); the listing looks only at what
// the bundle holds, so a listed test is always in the bundle.
bool leftOutOfTree(std::string_view leaf);

}  // namespace testfleet
