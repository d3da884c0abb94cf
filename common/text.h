// Small string functions shared by every part: UTF-8 repair and cuts, bounded tails for output, shell quoting,
// hashing for ids.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace testfleet {

// U+FFFD REPLACEMENT CHARACTER in UTF-8: what stands for bytes or characters that cannot be carried.
inline constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";

// `bytes` as valid UTF-8: valid text comes back unchanged; each maximal invalid subsequence (a stray or Latin-1
// byte, a character cut short, an overlong form, a surrogate, a code point past U+10FFFF) becomes one U+FFFD, the
// way Unicode recommends, so nothing is dropped silently. proto3 `string` fields and every report need this.
std::string validUtf8(std::string_view bytes);

// The longest prefix of `text` of at most `max_bytes` bytes that does not end inside a UTF-8 character.
std::string_view utf8Prefix(std::string_view text, size_t max_bytes);

// The longest suffix of `text` of at most `max_bytes` bytes that does not start inside a UTF-8 character.
std::string_view utf8Suffix(std::string_view text, size_t max_bytes);

// Keeps at most `limit` bytes: the head and the tail, with a marker saying how much was cut in between. The cuts
// fall on UTF-8 character boundaries (a character is never split; the input itself need not be valid UTF-8).
std::string keepHeadAndTail(std::string_view text, size_t limit);

// The lines of `text`, each without its "\n" or "\r\n"; a last line without a newline counts, an empty text has none.
std::vector<std::string_view> splitLines(std::string_view text);

// Quotes a string for /bin/sh so it stays one word whatever it contains.
std::string shellQuote(std::string_view word);

// A stable, short hexadecimal digest (FNV-1a 64) — for ids, not for security.
std::string shortHash(std::string_view data);

// The candidate a mistyped `word` most likely meant — for "did you mean 'timeout'?" after an unknown name: the one
// fewest single-character edits (insert, delete, replace, swap of neighbours) away, if that is at most a third of
// the word's length (at least 1). "" when none is that close.
std::string closestWord(std::string_view word, const std::vector<std::string>& candidates);

// A random identifier (128 bits, hex) for run ids.
std::string randomId();

}  // namespace testfleet
