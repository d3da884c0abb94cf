#include "common/kafka/broker_probe.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>

#include "common/duration.h"

namespace testfleet::kafka {
namespace {

using Clock = std::chrono::steady_clock;

struct AddrInfoDeleter {
  void operator()(addrinfo* list) const { freeaddrinfo(list); }
};

struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0) close(fd);
  }
};

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// The IP address `a` stands for ("127.0.0.1", "::1").
std::string numericHost(const addrinfo& a) {
  char host[NI_MAXHOST];
  if (getnameinfo(a.ai_addr, a.ai_addrlen, host, sizeof host, nullptr, 0, NI_NUMERICHOST)) return "?";
  return host;
}

// "" when a TCP connection to `a` opens before `deadline`, else why not.
std::string connectOnce(const addrinfo& a, Clock::time_point deadline) {
  FdGuard socket_fd{socket(a.ai_family, a.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a.ai_protocol)};
  if (socket_fd.fd < 0) return std::string("socket: ") + std::strerror(errno);
  int error = connect(socket_fd.fd, a.ai_addr, a.ai_addrlen) == 0 ? 0 : errno;
  if (error == EINPROGRESS) {
    pollfd p{socket_fd.fd, POLLOUT, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (poll(&p, 1, static_cast<int>(std::max<int64_t>(left, 0))) <= 0) {
      return "did not answer";
    }
    socklen_t size = sizeof error;
    getsockopt(socket_fd.fd, SOL_SOCKET, SO_ERROR, &error, &size);
  }
  if (error == 0) return "";
  if (error == ECONNREFUSED) return "refused the connection (no broker listens there)";
  return std::strerror(error);
}

// "" when `broker` accepts a connection before `deadline`, else why not.
std::string tryBroker(const BrokerAddress& broker, Clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(broker.host.c_str(), broker.port.c_str(), &hints, &found); rc != 0) {
    return "the host name '" + broker.host + "' does not resolve (" + gai_strerror(rc) + ")";
  }
  std::unique_ptr<addrinfo, AddrInfoDeleter> owned(found);
  std::string why;
  for (const addrinfo* a = found; a; a = a->ai_next) {
    why = connectOnce(*a, deadline);
    if (why.empty()) return "";
    if (const std::string ip = numericHost(*a); ip != broker.host) why += " (at " + ip + ")";
  }
  return why;
}

}  // namespace

std::vector<BrokerAddress> parseBrokerList(const std::string& brokers) {
  std::vector<BrokerAddress> out;
  size_t start = 0;
  while (start <= brokers.size()) {
    size_t comma = brokers.find(',', start);
    if (comma == std::string::npos) comma = brokers.size();
    std::string entry = trim(brokers.substr(start, comma - start));
    start = comma + 1;
    if (const auto scheme = entry.find("://"); scheme != std::string::npos) entry = entry.substr(scheme + 3);
    if (entry.empty()) continue;
    BrokerAddress b{entry, "9092"};
    if (entry.front() == '[') {  // [IPv6]:port
      const auto close = entry.find(']');
      b.host = entry.substr(1, close == std::string::npos ? std::string::npos : close - 1);
      if (close != std::string::npos && close + 1 < entry.size() && entry[close + 1] == ':')
        b.port = entry.substr(close + 2);
    } else if (const auto colon = entry.rfind(':'); colon != std::string::npos && entry.find(':') == colon) {
      b.host = entry.substr(0, colon);
      b.port = entry.substr(colon + 1);
    }
    out.push_back(std::move(b));
  }
  return out;
}

std::string unreachableBrokers(const std::string& brokers, std::chrono::milliseconds timeout) {
  const std::vector<BrokerAddress> list = parseBrokerList(brokers);
  if (list.empty()) return "no broker address in '" + brokers + "'";
  const auto deadline = Clock::now() + timeout;
  std::vector<std::string> why(list.size());
  for (;;) {
    for (size_t i = 0; i < list.size(); ++i) {
      why[i] = tryBroker(list[i], deadline);
      if (why[i].empty()) return "";
    }
    if (Clock::now() + std::chrono::milliseconds(250) >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  std::string all;
  for (size_t i = 0; i < list.size(); ++i) {
    if (why[i].starts_with("did not answer")) why[i].insert(14, " within " + formatDuration(timeout));
    // The caller names the list; a list of one needs no second name.
    all += (all.empty() ? "" : "; ") + (list.size() > 1 ? list[i].host + ":" + list[i].port + ": " : "") + why[i];
  }
  return all + " (tried for " + formatDuration(timeout) + ", --connect-timeout)";
}

}  // namespace testfleet::kafka
