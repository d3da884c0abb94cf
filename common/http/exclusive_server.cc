#include "common/http/exclusive_server.h"

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace testfleet {
namespace {

std::string bindFailure(const ListenOptions& o, const std::string& host, int port, int error) {
  const std::string where = "cannot listen on " + host + ":" + std::to_string(port) + ": ";
  switch (error) {
    case EADDRINUSE:
      return where + "the port is already in use (another " + o.service + "?); stop that process or choose another " +
             o.port_option;
    case EACCES:
      return where + "permission denied (ports below 1024 need privileges); choose a higher " + o.port_option;
    case EADDRNOTAVAIL:
      return where + "no interface of this machine has that address; check " + o.host_option;
    case 0:
      return where + "the address does not resolve; check " + o.host_option;
    default:
      return where + std::strerror(error);
  }
}

}  // namespace

ExclusiveServer::ExclusiveServer(ListenOptions options) : options_(std::move(options)) {
  set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
}

int ExclusiveServer::bindOrThrow(const std::string& host, int port) {
  errno = 0;
  const int bound = port == 0 ? bind_to_any_port(host) : (bind_to_port(host, port) ? port : -1);
  if (bound <= 0) throw std::runtime_error(bindFailure(options_, host, port, errno));
  // httplib listened with a backlog of 5; listening again on a listening socket only sets the backlog (Linux).
  if (::listen(svr_sock_, options_.listen_backlog) != 0) {
    throw std::runtime_error("cannot set the listen backlog on " + host + ":" + std::to_string(bound) + ": " +
                             std::strerror(errno));
  }
  return bound;
}

std::thread ExclusiveServer::serveInBackground() {
  std::thread serving([this] { listen_after_bind(); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return serving;
}

}  // namespace testfleet
