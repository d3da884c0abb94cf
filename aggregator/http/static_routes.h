// The run browser at / (aggregator/web/: static HTML, CSS and JavaScript that read the API) and the API's
// OpenAPI description at /v1/openapi.yaml, both served from the binary. Pages carry a Content-Security-Policy
// that allows scripts and styles from the aggregator only (no inline script runs, whatever a test name holds).
#pragma once

#include <httplib.h>

#include <optional>
#include <string_view>

namespace testfleet::aggregator {

// The embedded file of that name (e.g. "browser.js", "openapi.yaml"), or nullopt.
std::optional<std::string_view> staticFile(std::string_view name);

// Registers GET /, /web/{file} and /v1/openapi.yaml.
void addStaticRoutes(httplib::Server& server);

}  // namespace testfleet::aggregator
