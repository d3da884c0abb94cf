#include "aggregator/http/bearer_auth.h"

namespace testfleet::aggregator {
namespace {
// Compares without stopping at the first difference, so the time taken says nothing about the (non-empty) token.
bool isToken(std::string_view given, std::string_view token) {
  unsigned char differ = given.size() == token.size() ? 0 : 1;
  for (size_t i = 0; i < given.size(); ++i) differ |= static_cast<unsigned char>(given[i] ^ token[i % token.size()]);
  return differ == 0;
}
}  // namespace

BearerAuth::BearerAuth(std::string token) : token_(std::move(token)) {}

bool BearerAuth::allows(std::string_view method, std::string_view authorization) const {
  if (token_.empty() || method == "GET" || method == "HEAD") return true;
  constexpr std::string_view kScheme = "Bearer ";
  if (!authorization.starts_with(kScheme)) return false;
  return isToken(authorization.substr(kScheme.size()), token_);
}

std::string BearerAuth::refusal(std::string_view authorization) {
  return std::string(authorization.empty() ? "this aggregator requires a bearer token for writes"
                                           : "the bearer token is not this aggregator's") +
         ": give `testfleet submit` the aggregator's token with --api-token-file FILE (or TESTFLEET_API_TOKEN_FILE)";
}

}  // namespace testfleet::aggregator
