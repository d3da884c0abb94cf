#include "worker/http/status_server.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <nlohmann/json.hpp>

#include <thread>

#include "common/http/exclusive_server.h"
#include "common/verdict.h"

namespace testfleet::worker {

struct StatusServer::Impl {
  WorkerFacts facts;
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& jobs = prometheus::BuildCounter()
                                                      .Name("testfleet_worker_jobs_total")
                                                      .Help("Jobs this worker finished, by verdict")
                                                      .Register(*registry);
  prometheus::Gauge& busy = prometheus::BuildGauge()
                                .Name("testfleet_worker_slots_busy")
                                .Help("Slots running a job now")
                                .Register(*registry)
                                .Add({});
  prometheus::Histogram& seconds =
      prometheus::BuildHistogram()
          .Name("testfleet_worker_job_duration_seconds")
          .Help("Wall time of jobs in their sandbox")
          .Register(*registry)
          .Add({}, prometheus::Histogram::BucketBoundaries{0.01, 0.05, 0.25, 1, 5, 30, 120, 600});
  ExclusiveServer server{{.service = "worker", .host_option = "--http", .port_option = "--http"}};
  std::thread thread;
};

StatusServer::StatusServer(WorkerFacts facts) : impl_(std::make_unique<Impl>()) {
  impl_->facts = std::move(facts);
  auto& s = impl_->server;
  s.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  s.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    const WorkerFacts& f = impl_->facts;
    nlohmann::json body = {{"worker_id", f.worker_id},   {"sandbox", f.sandbox},
                           {"seccomp", f.seccomp},       {"limits_enforced", f.limits_enforced},
                           {"limits", f.limits},         {"slots", f.slots},
                           {"busy", impl_->busy.Value()}};
    res.set_content(body.dump(2) + "\n", "application/json");
  });
  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    prometheus::TextSerializer text;
    res.set_content(text.Serialize(impl_->registry->Collect()), "text/plain; version=0.0.4");
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

void StatusServer::jobStarted() { impl_->busy.Increment(); }

void StatusServer::jobFinished(const v1::Result& r) {
  impl_->busy.Decrement();
  impl_->jobs.Add({{"verdict", std::string(verdictName(r.verdict()))}}).Increment();
  impl_->seconds.Observe(r.usage().wall_ms() / 1000.0);
}

}  // namespace testfleet::worker
