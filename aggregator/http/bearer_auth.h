// Who may write through the API: when a token is configured, a request that changes something (any method but
// GET and HEAD) must carry `Authorization: Bearer <token>`; reads stay open to all (workers fetch bundles, CI
// jobs follow runs). Never logs or echoes the token. Thread-safe (immutable).
#pragma once

#include <string>
#include <string_view>

namespace testfleet::aggregator {

class BearerAuth {
 public:
  explicit BearerAuth(std::string token);  // empty: every request is allowed
  bool required() const { return !token_.empty(); }
  // Whether a request with this method and Authorization header (empty when absent) may go on.
  bool allows(std::string_view method, std::string_view authorization) const;
  // The answer for a refused request: what is missing and how to send it.
  static std::string refusal(std::string_view authorization);

 private:
  std::string token_;
};

}  // namespace testfleet::aggregator
