// Reading a request's query parameters strictly: an unknown parameter or a malformed value is refused with
// BadQuery, whose message names the parameter and says what it takes (the routes answer it with 400).
#pragma once

#include <httplib.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "aggregator/storage/result_store.h"

namespace testfleet::aggregator {

struct BadQuery : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Refuses the first parameter not in `known`, listing the ones the route takes.
void requireKnownParams(const httplib::Request& req, const std::vector<std::string_view>& known);
// The parameter as a whole number from lo to hi, or `fallback` when it is not given.
size_t numberParam(const httplib::Request& req, const std::string& name, size_t fallback, size_t lo, size_t hi);
// The parameter, which must be given, not empty and at most 512 bytes.
std::string requiredParam(const httplib::Request& req, const std::string& name);

// /v1/runs: suite, status (running|complete|passed|failed), label=KEY:VALUE (repeatable, all must match),
// limit (1–1000, default 50) and cursor (a next_cursor from an earlier page).
RunQuery runQuery(const httplib::Request& req);

// A page's next_cursor: opaque to clients (hex of "<submitted_at_ms>:<run_id>"); nullopt when it is not one.
std::string encodeCursor(const RunCursor& cursor);
std::optional<RunCursor> decodeCursor(std::string_view text);

}  // namespace testfleet::aggregator
