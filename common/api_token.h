// The aggregator's API token: a shared secret that write requests carry as `Authorization: Bearer TOKEN`. Both
// the aggregator (which requires it) and `testfleet submit` (which sends it) read it from a file named by
// --api-token-file, so it never appears in a command line or a log.
#pragma once

#include <filesystem>
#include <string>

namespace testfleet {

// The token in `file`: its content without surrounding whitespace. Throws std::invalid_argument naming the option
// and file and what to fix when it cannot be read, is empty, or holds anything but printable ASCII without spaces
// (what an HTTP header can carry unchanged). The aggregator reads its other secrets (--webhook-secret-file,
// --github-token-file) the same way.
std::string readApiToken(const std::filesystem::path& file, const std::string& option = "--api-token-file");

}  // namespace testfleet
