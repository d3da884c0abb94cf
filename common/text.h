// Small string functions shared by every part: bounded tails for output, shell quoting, hashing for ids.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace testfleet {

// Keeps at most `limit` bytes: the head and the tail, with a marker saying how much was cut in between.
std::string keepHeadAndTail(std::string_view text, size_t limit);

// Quotes a string for /bin/sh so it stays one word whatever it contains.
std::string shellQuote(std::string_view word);

// A stable, short hexadecimal digest (FNV-1a 64) — for ids, not for security.
std::string shortHash(std::string_view data);

// A random identifier (128 bits, hex) for run ids.
std::string randomId();

}  // namespace testfleet
