// The blob endpoint: PUT /v1/blobs/{sha256} streams a body into the store (refused before a byte is read when its
// Content-Length is over the limit or there is no room), GET serves a blob in pieces, HEAD says whether it is
// there. Memory per request is a few KiB however large the blob.
#pragma once

#include <httplib.h>

#include "aggregator/blobs/blob_store.h"

namespace testfleet::aggregator {

// The path pattern of a blob (its SHA-256 is the first match).
inline constexpr const char* kBlobPath = R"(/v1/blobs/([0-9a-f]{64}))";

// Registers the routes; the store must outlive the server.
void addBlobRoutes(httplib::Server& server, BlobStore& store);

}  // namespace testfleet::aggregator
