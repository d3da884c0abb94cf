#include <doctest/doctest.h>

#include "aggregator/http/bearer_auth.h"

using testfleet::aggregator::BearerAuth;

TEST_CASE("with a token, writes need `Bearer <token>` exactly; reads and a token-less aggregator stay open") {
  const BearerAuth auth("t0ken");
  CHECK(auth.allows("GET", ""));
  CHECK(auth.allows("HEAD", ""));
  CHECK(auth.allows("PUT", "Bearer t0ken"));
  CHECK_FALSE(auth.allows("PUT", ""));
  CHECK_FALSE(auth.allows("PUT", "Bearer t0ke"));
  CHECK_FALSE(auth.allows("PUT", "Bearer t0ken2"));
  CHECK_FALSE(auth.allows("PUT", "Basic t0ken"));
  CHECK_FALSE(auth.allows("POST", "t0ken"));
  CHECK_FALSE(auth.allows("DELETE", "Bearer "));
  CHECK(BearerAuth("").allows("PUT", ""));
  CHECK(BearerAuth::refusal("").find("--api-token-file") != std::string::npos);
}
