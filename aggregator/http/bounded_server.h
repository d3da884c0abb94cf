// An httplib::Server that stays up against slow, idle and surplus clients (cpp-httplib 0.11 alone holds a pool
// thread for as long as a client trickles header bytes, queues connections without bound, sets SO_REUSEPORT and
// listens with a backlog of 5):
// - at most `max_connections` connections are served at once, each on its own thread (started on demand); past
//   that, new connections wait in the listen backlog until one ends;
// - each request's header must arrive complete within `header_timeout` (idle keep-alive connections included),
//   and a body read or answer write that stalls for `idle_timeout` ends the connection (DeadlineSocketStream);
// - a connection serves at most `requests_per_connection` requests, and none after a request whose body was not
//   read to the end (a refused upload);
// - it binds as an ExclusiveServer: without SO_REUSEPORT, so a port in use is an error at start (bindOrThrow), and
//   listening with `listen_backlog`.
// Routes and handlers are registered as on any httplib::Server.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "aggregator/http/bounded_thread_pool.h"
#include "common/http/exclusive_server.h"

namespace testfleet::aggregator {

struct ServerLimits {
  size_t max_connections = 256;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds idle_timeout{30'000};
  size_t requests_per_connection = 100;
  int listen_backlog = 511;
};

class BoundedServer : public ExclusiveServer {
 public:
  explicit BoundedServer(ServerLimits limits);
  ~BoundedServer() override;

  // Stops accepting, ends every connection's waits; listen_after_bind() then returns once the threads are done.
  // Any thread may call it, more than once.
  void shutdown();
  // Connection threads started so far (at most max_connections).
  size_t connectionThreads() const { return pool_.threads(); }

 private:
  bool process_and_close_socket(socket_t sock) override;

  const ServerLimits limits_;
  const int stop_fd_;  // an eventfd, readable once shutdown() was called; closed by the destructor
  std::atomic<bool> stopping_{false};
  BoundedThreadPool pool_;
};

}  // namespace testfleet::aggregator
