#include <doctest/doctest.h>

#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>

#include "common/http_client.h"
#include "tests/unit/eventually.h"
#include "worker/http/status_server.h"

using namespace testfleet;
using testfleet::testing::eventually;

namespace {
worker::WorkerFacts facts() { return {"w-test", "unsandboxed", false, false, "off", 1}; }
}  // namespace

TEST_CASE("the worker's status server answers probes, and holds its port alone") {
  worker::WorkerMetrics metrics(1);
  worker::StatusServer first(facts(), metrics);
  const int port = first.start("127.0.0.1", 0);
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  HttpClient http(std::chrono::seconds(5));
  REQUIRE(eventually(std::chrono::milliseconds(5000), [&] { return http.get(base + "/healthz").status == 200; }));
  const HttpResponse ready = http.get(base + "/readyz");
  CHECK(ready.status == 200);
  CHECK(ready.body.find("\"worker_id\": \"w-test\"") != std::string::npos);

  // httplib's own bind (SO_REUSEPORT) would let a second worker share the port and take half the scrapes.
  worker::StatusServer second(facts(), metrics);
  CHECK_THROWS_WITH_AS(second.start("127.0.0.1", port), doctest::Contains("already in use (another worker?)"),
                       std::runtime_error);
}

TEST_CASE("a status server stopped right after it started ends at once") {
  // httplib's stop() does nothing to an accept loop that has not started yet: start() returns only once it runs.
  const auto begin = std::chrono::steady_clock::now();
  worker::WorkerMetrics metrics(1);
  for (int i = 0; i < 20; ++i) {
    worker::StatusServer server(facts(), metrics);
    server.start("127.0.0.1", 0);
  }
  CHECK(std::chrono::steady_clock::now() - begin < std::chrono::seconds(10));
}

TEST_CASE("the worker's /readyz answers 503 with the reason while it cannot take jobs") {
  worker::WorkerMetrics metrics(1);
  std::string reason = "no Kafka broker is reachable";  // read on the server's thread after the requests below
  std::mutex mu;
  worker::StatusServer server(facts(), metrics, [&] {
    std::lock_guard lock(mu);
    return reason;
  });
  const std::string base = "http://127.0.0.1:" + std::to_string(server.start("127.0.0.1", 0));
  HttpClient http(std::chrono::seconds(5));
  REQUIRE(eventually(std::chrono::milliseconds(5000), [&] { return http.get(base + "/healthz").status == 200; }));
  const HttpResponse not_ready = http.get(base + "/readyz");
  CHECK(not_ready.status == 503);
  CHECK(not_ready.body.find("\"not_ready\": \"no Kafka broker is reachable\"") != std::string::npos);
  CHECK(not_ready.body.find("\"ready\": false") != std::string::npos);
  {
    std::lock_guard lock(mu);
    reason.clear();
  }
  const HttpResponse ready = http.get(base + "/readyz");
  CHECK(ready.status == 200);
  CHECK(ready.body.find("\"ready\": true") != std::string::npos);
}
