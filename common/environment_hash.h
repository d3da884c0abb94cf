// Content hashes of declared environments (a suite's `environment:`). The same declaration with the same files gives
// the same hash on every machine, so a worker prepares it once and every later job of any run reuses it.
#pragma once

#include <string>
#include <string_view>

#include "testfleet/v1/testfleet.pb.h"

namespace testfleet {

// Lowercase hex SHA-256 of what the environment installs: its declaration (requirement files, pyproject, extras)
// and the bytes of every file it names. Field order in the message does not matter; the order of requirement files
// and extras does not either (pip resolves them together).
std::string environmentSha256(const v1::Environment& env);

// The key a worker keeps a prepared environment under: that hash and the identity of the interpreter that prepares
// and runs it (a tree built for one Python is not importable by another).
std::string environmentKey(const v1::Environment& env, std::string_view interpreter);

}  // namespace testfleet
