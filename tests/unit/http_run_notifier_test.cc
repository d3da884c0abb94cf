#include <doctest/doctest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <mutex>
#include <thread>
#include <vector>

#include "aggregator/notify/http_run_notifier.h"
#include "aggregator/storage/sqlite_result_store.h"
#include "common/bundle.h"
#include "tests/unit/eventually.h"
#include "tests/unit/temp_db.h"

using namespace testfleet;
using namespace testfleet::aggregator;
using testfleet::testing::eventually;
using testfleet::testing::TempDb;
using json = nlohmann::json;
using std::chrono::milliseconds;

namespace {
struct Received {
  std::string path, body, signature, authorization;
};

// A receiver on a free port that answers the first `failures` POSTs with `failure_status`, then 200.
struct Receiver {
  httplib::Server server;
  int port = 0;
  std::thread thread;
  std::mutex mutex;                // guards received and answered
  std::vector<Received> received;  // the accepted requests
  int answered = 0;

  Receiver(int failures, int failure_status) {
    server.Post(R"(/.*)", [this, failures, failure_status](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex);
      if (answered++ < failures) {
        res.status = failure_status;
        return;
      }
      received.push_back(
          {req.path, req.body, req.get_header_value("X-Testfleet-Signature"), req.get_header_value("Authorization")});
      res.status = 201;
    });
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::yield();
  }
  ~Receiver() {
    server.stop();
    thread.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
  size_t accepted() {
    std::lock_guard lock(mutex);
    return received.size();
  }
  int requests() {
    std::lock_guard lock(mutex);
    return answered;
  }
};

// Stores a complete run "r" of jobs a (PASSED) and b (FAILED), labelled with a GitHub repository and commit.
void storeCompletedRun(ResultStore& store) {
  v1::RunManifest m;
  m.set_schema_version(1);
  m.set_run_id("r");
  m.set_suite_name("s");
  m.set_expected_jobs(2);
  m.add_job_ids("a");
  m.add_job_ids("b");
  m.set_submitted_at_ms(1000);
  (*m.mutable_labels())["repository"] = "acme/widgets";
  (*m.mutable_labels())["commit"] = "abc1234";
  std::vector<v1::Result> results;
  for (auto [job, verdict] : {std::pair{"a", v1::PASSED}, std::pair{"b", v1::FAILED}}) {
    v1::Result r;
    r.set_schema_version(1);
    r.set_run_id("r");
    r.set_job_id(job);
    r.set_name(job);
    r.set_attempt(1);
    r.set_verdict(verdict);
    r.set_final(true);
    auto* c = r.add_cases();
    c->set_name(job);
    c->set_status(verdict);
    results.push_back(r);
  }
  store.commitBatch(results, {m}, {{kafka::TopicPartition{"t", 0}, 1}}, 5000);
}
}  // namespace

TEST_CASE("a completed run's webhook is retried after a 503, signed, and its commit status carries the token") {
  TempDb tmp("notify");
  SqliteResultStore store(tmp.path);
  storeCompletedRun(store);
  AggregatorMetrics metrics;
  Receiver hook(1, 503), github(0, 0);
  NotifySettings settings;
  settings.webhooks = {hook.url() + "/hook"};
  settings.webhook_secret = "s3cret";
  settings.github_token = "gh-token";
  settings.github_api = github.url() + "/";
  settings.public_url = "http://ci.example";
  settings.first_retry = milliseconds(10);
  {
    HttpRunNotifier notifier(settings, store, metrics);
    notifier.runCompleted("r");
    REQUIRE(eventually(milliseconds(5000), [&] { return hook.accepted() == 1 && github.accepted() == 1; }));
  }
  CHECK(hook.requests() == 2);  // the 503, then the accepted one
  const Received delivered = hook.received.at(0);
  CHECK(delivered.path == "/hook");
  CHECK(delivered.signature == "sha256=" + hmacSha256Hex("s3cret", delivered.body));
  const json body = json::parse(delivered.body);
  CHECK(body["run_id"] == "r");
  CHECK(body["verdict"] == "failed");
  CHECK(body["counts"]["passed"] == 1);
  CHECK(body["counts"]["failed"] == 1);
  CHECK(body["duration_ms"] == 4000);
  CHECK(body["link"] == "http://ci.example/v1/runs/r/report.html");

  const Received status = github.received.at(0);
  CHECK(status.path == "/repos/acme/widgets/statuses/abc1234");
  CHECK(status.authorization == "Bearer gh-token");
  CHECK(json::parse(status.body)["state"] == "failure");
  CHECK(metrics.serialize().find(R"(testfleet_notifications_total{outcome="delivered",target="webhook"} 1)") !=
        std::string::npos);
}

namespace {
// How many requests a receiver that always answers `status` got before the run's webhook was given up.
int requestsUntilGivenUp(int status, int max_attempts) {
  TempDb tmp("notify-" + std::to_string(status));
  SqliteResultStore store(tmp.path);
  storeCompletedRun(store);
  AggregatorMetrics metrics;
  Receiver hook(100, status);
  NotifySettings settings;
  settings.webhooks = {hook.url()};
  settings.first_retry = milliseconds(5);
  settings.max_attempts = max_attempts;
  {
    HttpRunNotifier notifier(settings, store, metrics);
    notifier.runCompleted("r");
    REQUIRE(eventually(milliseconds(5000), [&] {
      return metrics.serialize().find(R"(testfleet_notifications_total{outcome="gave_up",target="webhook"} 1)") !=
             std::string::npos;
    }));
  }
  return hook.requests();
}
}  // namespace

TEST_CASE("a webhook answered with a 4xx is not retried, and counts as given up") {
  CHECK(requestsUntilGivenUp(400, 5) == 1);
}

TEST_CASE("a webhook that keeps failing is given up after the last attempt") {
  CHECK(requestsUntilGivenUp(502, 3) == 3);
}
