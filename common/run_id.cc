#include "common/run_id.h"

#include <algorithm>
#include <cctype>

namespace testfleet {

bool isValidRunId(std::string_view id) {
  return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

}  // namespace testfleet
