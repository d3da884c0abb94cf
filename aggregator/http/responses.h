// How the API answers: JSON bodies, and errors as {"error": "..."} with a message that says what to do.
#pragma once

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <string>

namespace testfleet::aggregator {

// Pretty-printed JSON text; invalid UTF-8 in strings is replaced, never thrown about.
std::string dump(const nlohmann::json& j);
void sendError(httplib::Response& res, int status, const std::string& message);

}  // namespace testfleet::aggregator
