#include "aggregator/http/bounded_server.h"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "aggregator/http/deadline_socket_stream.h"

namespace testfleet::aggregator {
namespace {

int newEventFd() {
  const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
  return fd;
}

// Hands httplib's accept loop the server's own pool, which outlives it.
class PoolQueue final : public httplib::TaskQueue {
 public:
  explicit PoolQueue(BoundedThreadPool& pool) : pool_(pool) {}
  void enqueue(std::function<void()> fn) override { pool_.enqueue(std::move(fn)); }
  void shutdown() override {
    pool_.stop();
    pool_.join();
  }

 private:
  BoundedThreadPool& pool_;
};

std::string bindFailure(const std::string& host, int port, int error) {
  const std::string where = "cannot listen on " + host + ":" + std::to_string(port) + ": ";
  switch (error) {
    case EADDRINUSE:
      return where + "the port is already in use (another aggregator?); stop that process or choose another --port";
    case EACCES:
      return where + "permission denied (ports below 1024 need privileges); choose a higher --port";
    case EADDRNOTAVAIL:
      return where + "no interface of this machine has that address; check --listen";
    case 0:
      return where + "the address does not resolve; check --listen";
    default:
      return where + std::strerror(error);
  }
}
}  // namespace

BoundedServer::BoundedServer(ServerLimits limits)
    : limits_(limits), stop_fd_(newEventFd()), pool_(limits.max_connections) {
  new_task_queue = [this] { return new PoolQueue(pool_); };
  // SO_REUSEADDR only: a restart may bind while old connections linger in TIME_WAIT, but two live servers never
  // share the port (httplib's default adds SO_REUSEPORT, which lets a second process take half the connections).
  set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
}

BoundedServer::~BoundedServer() {
  shutdown();
  ::close(stop_fd_);
}

int BoundedServer::bindOrThrow(const std::string& host, int port) {
  errno = 0;
  const int bound = port == 0 ? bind_to_any_port(host) : (bind_to_port(host, port) ? port : -1);
  if (bound <= 0) throw std::runtime_error(bindFailure(host, port, errno));
  // httplib listened with a backlog of 5; listening again on a listening socket only sets the backlog (Linux).
  if (::listen(svr_sock_, limits_.listen_backlog) != 0) {
    throw std::runtime_error("cannot set the listen backlog on " + host + ":" + std::to_string(bound) + ": " +
                             std::strerror(errno));
  }
  return bound;
}

void BoundedServer::shutdown() {
  if (stopping_.exchange(true)) return;
  const uint64_t one = 1;
  (void)!::write(stop_fd_, &one, sizeof one);
  pool_.stop();
  stop();
}

bool BoundedServer::process_and_close_socket(socket_t sock) {
  DeadlineSocketStream stream(sock, stop_fd_, {limits_.header_timeout, limits_.idle_timeout});
  bool ok = true;
  for (size_t n = 1; n <= limits_.requests_per_connection && !stopping_; ++n) {
    stream.beginRequest();
    bool closed_by_client = false;
    ok = process_request(stream, n == limits_.requests_per_connection, closed_by_client, nullptr);
    if (!ok || closed_by_client || !stream.readyForAnotherRequest()) break;
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ok;
}

}  // namespace testfleet::aggregator
