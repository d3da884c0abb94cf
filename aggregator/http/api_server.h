// The aggregator's HTTP API: runs, reports, health and metrics. Serves on its own threads (BoundedServer: bounded
// connections, header deadlines, no shared port); start() returns once listening, stop() (or the destructor)
// joins them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "aggregator/http/bounded_server.h"
#include "aggregator/metrics.h"
#include "aggregator/storage/result_store.h"

namespace testfleet::aggregator {

struct BlobSettings {
  std::string dir;                         // where bundles are kept, one file per SHA-256; empty = no blob endpoint
  uint64_t max_bytes = 256ull << 20;       // the largest bundle accepted
  uint64_t max_total_bytes = 20ull << 30;  // all bundles together; past it the least recently used (not used
                                           // within the last hour) are removed, or the upload is refused (507)
};

class ApiServer {
 public:
  ApiServer(ResultStore& store, AggregatorMetrics& metrics, BlobSettings blobs = {}, ServerLimits limits = {});
  ~ApiServer();
  // Binds host:port (port 0 picks a free one) and returns the bound port. Throws std::runtime_error saying why
  // (e.g. the port is in use) and what to do.
  int start(const std::string& host, int port);
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace testfleet::aggregator
