// The worker's own HTTP endpoint for probes and scraping: /healthz (alive), /readyz (what isolation and limits
// this worker applies, as JSON; 200 when it can take jobs — a broker reachable, a member of its group — 503 with
// the reason otherwise) and /metrics (Prometheus). Off unless --http is given.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "worker/worker_metrics.h"

namespace testfleet::worker {

struct WorkerFacts {
  std::string worker_id;
  std::string sandbox;  // "bubblewrap" or "unsandboxed"
  bool seccomp = false;
  bool limits_enforced = false;
  std::string limits;  // the cgroup driver, or why limits are not enforced
  int slots = 0;
};

// Thread-safe: the metrics change while the server answers.
class StatusServer {
 public:
  // metrics must outlive the server. not_ready_reason (called on the server's threads): why the worker cannot take
  // jobs now, "" when it can; unset: always ready.
  StatusServer(WorkerFacts facts, const WorkerMetrics& metrics,
               std::function<std::string()> not_ready_reason = nullptr);
  ~StatusServer();
  // host:port; port 0 picks a free one. Returns the bound port; throws std::runtime_error saying why (a port in use
  // is an error: the port is this worker's alone, see common/http/exclusive_server.h).
  int start(const std::string& host, int port);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace testfleet::worker
