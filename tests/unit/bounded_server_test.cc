#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "aggregator/http/bounded_server.h"
#include "common/http_client.h"
#include "tests/unit/eventually.h"
#include "tests/unit/raw_connection.h"

using namespace testfleet;
using namespace testfleet::aggregator;
using testfleet::testing::eventually;
using testfleet::testing::RawConnection;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {
// A BoundedServer answering GET /x, listening on a free port until destroyed.
struct RunningServer {
  BoundedServer server;
  int port;
  std::thread thread;
  explicit RunningServer(ServerLimits limits) : server(limits) {
    server.Get("/x", [](const httplib::Request&, httplib::Response& res) { res.set_content("x", "text/plain"); });
    port = server.bindOrThrow("127.0.0.1", 0);
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::yield();
  }
  ~RunningServer() {
    server.shutdown();
    thread.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port) + "/x"; }
};

milliseconds since(Clock::time_point start) { return std::chrono::duration_cast<milliseconds>(Clock::now() - start); }
}  // namespace

TEST_CASE("a connection gets header_timeout for its whole header, however slowly it trickles or idles") {
  ServerLimits limits;
  limits.header_timeout = milliseconds(600);
  RunningServer running(limits);

  SUBCASE("trickling") {
    RawConnection slow(running.port);
    const auto start = Clock::now();
    REQUIRE(slow.send("GET /x HTTP/1.1\r\nX-Slow: "));
    bool closed = false;
    while (!closed && since(start) < milliseconds(4000)) {
      slow.send("a");  // a byte every 100 ms: each read makes progress, the header never ends
      closed = slow.closedBy(milliseconds(100));
    }
    CHECK(closed);
    CHECK(since(start) >= milliseconds(500));
    CHECK(since(start) < milliseconds(2500));
  }
  SUBCASE("idle") {
    RawConnection idle(running.port);
    const auto start = Clock::now();
    CHECK(idle.closedBy(milliseconds(4000)));
    CHECK(since(start) < milliseconds(2500));
  }
  SUBCASE("a complete request is answered and the connection kept for the next") {
    RawConnection client(running.port);
    REQUIRE(client.send("GET /x HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK_FALSE(client.closedBy(milliseconds(300)));
  }
}

TEST_CASE("at most max_connections are served at once; the next waits until one ends") {
  ServerLimits limits;
  limits.max_connections = 2;
  limits.header_timeout = milliseconds(800);
  RunningServer running(limits);
  RawConnection idle1(running.port), idle2(running.port);
  REQUIRE(eventually(milliseconds(2000), [&] { return running.server.connectionThreads() == 2; }));

  const auto start = Clock::now();
  HttpClient http(std::chrono::seconds(10));
  const HttpResponse r = http.get(running.url());
  CHECK(r.status == 200);
  CHECK(since(start) >= milliseconds(500));  // it waited for an idle connection's header deadline
  CHECK(running.server.connectionThreads() == 2);
}

TEST_CASE("binding a port that is in use fails at start and says so") {
  RunningServer first(ServerLimits{});
  BoundedServer second(ServerLimits{});
  CHECK_THROWS_WITH_AS(second.bindOrThrow("127.0.0.1", first.port), doctest::Contains("already in use"),
                       std::runtime_error);
}

TEST_CASE("connections beyond the served ones wait in a listen backlog far deeper than httplib's 5") {
  ServerLimits limits;
  limits.max_connections = 1;
  limits.header_timeout = milliseconds(5000);
  RunningServer running(limits);
  RawConnection held(running.port);
  REQUIRE(eventually(milliseconds(2000), [&] { return running.server.connectionThreads() == 1; }));

  std::vector<std::unique_ptr<RawConnection>> waiting;
  for (int i = 0; i < 50; ++i) waiting.push_back(std::make_unique<RawConnection>(running.port, true));
  auto connected = [&] {
    size_t n = 0;
    for (const auto& c : waiting) n += c->connected() ? 1 : 0;
    return n;
  };
  eventually(milliseconds(1500), [&] { return connected() == waiting.size(); });
  CHECK(connected() == waiting.size());
}
