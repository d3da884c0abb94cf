// The aggregator's command line (and --config file, and environment), declared straight into the settings of the
// parts main wires: the database, the HTTP server and its limits, the blob store, notifications.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "aggregator/blobs/blob_store.h"
#include "aggregator/http/api_server.h"
#include "aggregator/notify/notify_options.h"
#include "common/cli_options.h"

namespace testfleet::aggregator {

struct AggregatorOptions {
  ClusterOptions cluster;
  std::string db = "testfleet.db";
  std::string host = "127.0.0.1";
  int port = 8480;
  std::string api_token_file;
  ServerLimits limits;
  BlobSettings blobs;
  NotifyOptions notify;
};

// Declares every option of testfleet-aggregator into `options`, with the exit codes in --help's footer.
void addAggregatorOptions(CLI::App& app, AggregatorOptions& options);

}  // namespace testfleet::aggregator
