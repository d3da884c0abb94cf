#include "worker/http/status_server.h"

#include <nlohmann/json.hpp>

#include <thread>

#include "common/http/exclusive_server.h"

namespace testfleet::worker {

struct StatusServer::Impl {
  WorkerFacts facts;
  const WorkerMetrics* metrics = nullptr;
  std::function<std::string()> not_ready_reason;
  ExclusiveServer server{{.service = "worker", .host_option = "--http", .port_option = "--http"}};
  std::thread thread;
};

StatusServer::StatusServer(WorkerFacts facts, const WorkerMetrics& metrics,
                           std::function<std::string()> not_ready_reason)
    : impl_(std::make_unique<Impl>()) {
  impl_->facts = std::move(facts);
  impl_->metrics = &metrics;
  impl_->not_ready_reason = std::move(not_ready_reason);
  auto& s = impl_->server;
  s.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  s.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    const WorkerFacts& f = impl_->facts;
    nlohmann::json body = {{"worker_id", f.worker_id},
                           {"sandbox", f.sandbox},
                           {"seccomp", f.seccomp},
                           {"limits_enforced", f.limits_enforced},
                           {"limits", f.limits},
                           {"slots", f.slots},
                           {"busy", impl_->metrics->busySlots()}};
    const std::string reason = impl_->not_ready_reason ? impl_->not_ready_reason() : "";
    body["ready"] = reason.empty();
    if (!reason.empty()) {
      body["not_ready"] = reason;
      res.status = 503;
    }
    res.set_content(body.dump(2) + "\n", "application/json");
  });
  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(impl_->metrics->serialize(), "text/plain; version=0.0.4");
  });
}

StatusServer::~StatusServer() {
  if (impl_->thread.joinable()) {
    impl_->server.stop();
    impl_->thread.join();
  }
}

int StatusServer::start(const std::string& host, int port) {
  const int bound = impl_->server.bindOrThrow(host, port);
  impl_->thread = impl_->server.serveInBackground();
  return bound;
}

}  // namespace testfleet::worker
