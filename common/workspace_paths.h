// The rules every walk and every write of a job's workspace follows. The producer lists and bundles a folder, the
// worker unpacks bundles and writes the job's files and artifacts: they all ask here, so they agree.
#pragma once

#include <cstddef>
#include <string_view>

namespace testfleet {

// A path from an untrusted suite, archive or sandbox that stays inside the folder it is joined to: not empty, at
// most `max_bytes`, no NUL, not absolute, no "..", "." or empty parts ("a//b"). A trailing "/" (a folder) is allowed.
bool isSafeRelativePath(std::string_view path, size_t max_bytes = 1024);

// A file or folder name that a walk of a test tree leaves out (a folder with everything below it): hidden entries,
// __pycache__ and node_modules. Bundles and the producer's test listing both use it, so a listed test is always in
// the bundle.
bool leftOutOfTree(std::string_view leaf);

}  // namespace testfleet
