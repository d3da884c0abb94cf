#include "common/text.h"

#include <cstdio>
#include <random>

namespace testfleet {

std::string keepHeadAndTail(std::string_view text, size_t limit) {
  if (text.size() <= limit) return std::string(text);
  const size_t head = limit / 4;
  const size_t tail = limit - head;
  std::string out(text.substr(0, head));
  out += "\n[... testfleet cut " + std::to_string(text.size() - head - tail) + " bytes ...]\n";
  out += text.substr(text.size() - tail);
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

std::string randomId() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(gen()),
                static_cast<unsigned long long>(gen()));
  return buf;
}

}  // namespace testfleet
