#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/kafka/broker_probe.h"

using namespace testfleet::kafka;
using namespace std::chrono_literals;

namespace {

// A loopback port with a listening socket (listening: a connection opens) or without (closed: refused).
struct LocalPort {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int port = 0;
  explicit LocalPort(bool listening) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t size = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &size);
    port = ntohs(a.sin_port);
    if (listening) {
      listen(fd, 4);
    } else {
      close(fd);
      fd = -1;
    }
  }
  ~LocalPort() {
    if (fd >= 0) close(fd);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port); }
};

}  // namespace

TEST_CASE("parseBrokerList reads host:port lists, IPv6 brackets and scheme prefixes") {
  const auto list = parseBrokerList(" kafka-0:9093, PLAINTEXT://[::1]:19092,,host-without-port ,::1");
  REQUIRE(list.size() == 4);
  CHECK(list[0].host == "kafka-0");
  CHECK(list[0].port == "9093");
  CHECK(list[1].host == "::1");
  CHECK(list[1].port == "19092");
  CHECK(list[2].host == "host-without-port");
  CHECK(list[2].port == "9092");
  CHECK(list[3].host == "::1");  // a bare IPv6 address: no port to split off
  CHECK(list[3].port == "9092");
}

TEST_CASE("unreachableBrokers: nothing to say when one broker of the list accepts a connection") {
  LocalPort listening(true);
  LocalPort closed(false);
  CHECK(unreachableBrokers(listening.address(), 2s) == "");
  CHECK(unreachableBrokers(closed.address() + "," + listening.address(), 2s) == "");
}

TEST_CASE("unreachableBrokers tells a refused connection from a name that does not resolve") {
  LocalPort closed(false);
  const std::string refused = unreachableBrokers(closed.address(), 300ms);
  CHECK(refused.starts_with("refused the connection (no broker listens there)"));
  CHECK(refused.find("--connect-timeout") != std::string::npos);
  const std::string unresolved = unreachableBrokers("no-such-host.invalid:9092", 300ms);
  CHECK(unresolved.starts_with("the host name 'no-such-host.invalid' does not resolve"));
  CHECK(unresolved.find("refused") == std::string::npos);
  const std::string both = unreachableBrokers("no-such-host.invalid:9092," + closed.address(), 300ms);
  CHECK(both.starts_with("no-such-host.invalid:9092: the host name"));
  CHECK(both.find("; " + closed.address() + ": refused the connection") != std::string::npos);
  CHECK(unreachableBrokers(" , ", 300ms) == "no broker address in ' , '");
}
