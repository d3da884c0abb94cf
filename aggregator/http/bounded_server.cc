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

}  // namespace

BoundedServer::BoundedServer(ServerLimits limits)
    : ExclusiveServer({.listen_backlog = limits.listen_backlog}),
      limits_(limits),
      stop_fd_(newEventFd()),
      pool_(limits.max_connections) {
  new_task_queue = [this] { return new PoolQueue(pool_); };
}

BoundedServer::~BoundedServer() {
  shutdown();
  ::close(stop_fd_);
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
