#include "producer/bundle_summary.h"

#include <cstdio>

namespace testfleet::producer {
namespace {

std::string approximateBytes(uint64_t bytes) {
  char text[32];
  if (bytes >= (1ull << 20)) {
    std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  } else if (bytes >= (1ull << 10)) {
    std::snprintf(text, sizeof text, "%.1f KiB", static_cast<double>(bytes) / (1 << 10));
  } else {
    std::snprintf(text, sizeof text, "%llu bytes", static_cast<unsigned long long>(bytes));
  }
  return text;
}

// "2 by default", "1 absolute link": a rule's source reads "by …", something unsafe names itself.
std::string countedReason(const LeftOut& l) {
  const std::string n = std::to_string(l.count) + " ";
  if (l.reason == "default" || l.reason == ".testfleetignore") return n + "by " + l.reason;
  if (l.reason == "exclude") return n + "by exclude:";
  return n + l.reason;
}

}  // namespace

std::string bundleSummary(const PackedBundle& packed) {
  std::string out = "bundle of " + packed.source + ": " + std::to_string(packed.files) + " files, " +
                    std::to_string(packed.links) + " links, " + approximateBytes(packed.unpacked_bytes) + " (" +
                    approximateBytes(packed.archive.size()) + " packed)\n  left out: ";
  if (packed.left_out.empty()) return out + "nothing\n";
  bool first = true;
  for (const auto& l : packed.left_out) {
    out += (first ? "" : "; ") + countedReason(l) + " (";
    for (size_t i = 0; i < l.examples.size(); ++i) out += (i ? ", " : "") + l.examples[i];
    out += l.count > l.examples.size() ? ", …)" : ")";
    first = false;
  }
  return out + "\n";
}

}  // namespace testfleet::producer
