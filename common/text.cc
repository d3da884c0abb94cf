#include "common/text.h"

#include <algorithm>
#include <cstdio>
#include <random>

namespace testfleet {
namespace {

bool isContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// The bytes at `at` (not past the end of `text`): a whole valid character, or the maximal invalid subpart to
// replace with one U+FFFD (Unicode 15, section 3.9, "U+FFFD Substitution of Maximal Subparts").
struct Utf8Sequence {
  size_t length;
  bool valid;
};

Utf8Sequence utf8SequenceAt(std::string_view text, size_t at) {
  const auto lead = static_cast<unsigned char>(text[at]);
  if (lead < 0x80) return {1, true};
  // Table 3-7 of the standard: how many continuation bytes follow the lead, and the range of the first of them.
  size_t continuations = 0;
  unsigned char first_low = 0x80, first_high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    continuations = 1;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    continuations = 2;
    if (lead == 0xE0) first_low = 0xA0;   // no overlong forms
    if (lead == 0xED) first_high = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    continuations = 3;
    if (lead == 0xF0) first_low = 0x90;   // no overlong forms
    if (lead == 0xF4) first_high = 0x8F;  // nothing past U+10FFFF
  } else {
    return {1, false};  // a continuation byte without a lead, C0/C1 (overlong), F5..FF
  }
  size_t length = 1;
  for (; length <= continuations && at + length < text.size(); ++length) {
    const auto c = static_cast<unsigned char>(text[at + length]);
    const unsigned char low = length == 1 ? first_low : 0x80, high = length == 1 ? first_high : 0xBF;
    if (c < low || c > high) return {length, false};
  }
  return {length, length == continuations + 1};
}

}  // namespace

std::string validUtf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t at = 0; at < bytes.size();) {
    const Utf8Sequence seq = utf8SequenceAt(bytes, at);
    out += seq.valid ? bytes.substr(at, seq.length) : kReplacementCharacter;
    at += seq.length;
  }
  return out;
}

// A UTF-8 character is at most four bytes, so a boundary is at most three continuation bytes away.
std::string_view utf8Prefix(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t end = max_bytes;
  for (int step = 0; step < 3 && end > 0 && isContinuationByte(text[end]); ++step) --end;
  return text.substr(0, end);
}

std::string_view utf8Suffix(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t begin = text.size() - max_bytes;
  for (int step = 0; step < 3 && begin < text.size() && isContinuationByte(text[begin]); ++step) ++begin;
  return text.substr(begin);
}

std::vector<std::string_view> splitLines(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (line.ends_with('\r')) line.remove_suffix(1);
    out.push_back(line);
    start = end + 1;
  }
  return out;
}

std::string keepHeadAndTail(std::string_view text, size_t limit) {
  if (text.size() <= limit) return std::string(text);
  const std::string_view head = utf8Prefix(text, limit / 4);
  const std::string_view tail = utf8Suffix(text, limit - limit / 4);
  std::string out(head);
  out += "\n[... testfleet cut " + std::to_string(text.size() - head.size() - tail.size()) + " bytes ...]\n";
  out += tail;
  return out;
}

std::string shellQuote(std::string_view word) {
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

std::string shortHash(std::string_view data) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

namespace {

// Optimal string alignment distance: Levenshtein plus the swap of two neighbouring characters ("tiemout").
size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

std::string closestWord(std::string_view word, const std::vector<std::string>& candidates) {
  const size_t allowed = std::max<size_t>(1, word.size() / 3);
  std::string best;
  size_t best_distance = allowed + 1;
  for (const auto& candidate : candidates) {
    if (const size_t distance = editDistance(word, candidate); distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::string randomId() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(gen()),
                static_cast<unsigned long long>(gen()));
  return buf;
}

}  // namespace testfleet
