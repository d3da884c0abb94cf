// Wall-clock helpers for timestamps on the wire (milliseconds since the Unix epoch).
#pragma once

#include <chrono>
#include <cstdint>

namespace testfleet {

inline int64_t nowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace testfleet
