// The aggregator's HTTP API: runs, reports, blobs, health, readiness and metrics. Serves on its own threads
// (BoundedServer: bounded connections, header deadlines, no shared port); start() returns once listening,
// stop() (or the destructor) joins them.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "aggregator/blobs/blob_store.h"
#include "aggregator/http/bounded_server.h"
#include "aggregator/metrics.h"
#include "aggregator/run_changes.h"
#include "aggregator/storage/result_store.h"

namespace testfleet::aggregator {

// POST: cancel the run (ApiSettings::cancel_run).
inline constexpr const char* kCancelPath = R"(/v1/runs/([^/]+)/cancel)";

struct ApiSettings {
  ServerLimits limits;
  BlobStore* blobs = nullptr;  // serves /v1/blobs when set; must outlive the server
  std::string api_token;       // when set, writes need `Authorization: Bearer <token>` (reads stay open)
  // What /readyz reports: why the aggregator cannot take results now, or "" when it can. Unset: always ready.
  std::function<std::string()> not_ready_reason;
  // Serves POST /v1/runs/{id}/cancel when set: cancels the run (main writes the control record, see
  // common/run_cancels.h) and returns "" or why it could not. Called on an HTTP thread.
  std::function<std::string(const std::string& run_id)> cancel_run;
  // Lets GET /v1/runs/{id}?jobs=false&done=D&wait_ms=N wait for the run to move (ingest publishes every stored
  // batch). Unset: such requests answer at once. Must outlive the server; stop() closes it.
  RunChanges* changes = nullptr;
};

class ApiServer {
 public:
  ApiServer(ResultStore& store, AggregatorMetrics& metrics, ApiSettings settings = {});
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
