// An httplib::Server that holds its port alone. cpp-httplib 0.11 binds with SO_REUSEPORT, which lets a second process
// on the same port take half the connections, and listens with a backlog of 5; this one binds with SO_REUSEADDR only
// (a restart may bind while old connections linger in TIME_WAIT), so a port in use is an error at start, and listens
// with `listen_backlog`. The worker's status server and the aggregator's API both bind through it.
#pragma once

#include <httplib.h>

#include <string>
#include <thread>

namespace testfleet {

// What a bind error tells the operator to change: who holds such ports, and the options that choose the address.
struct ListenOptions {
  std::string service = "aggregator";  // "the port is already in use (another aggregator?)"
  std::string host_option = "--listen";
  std::string port_option = "--port";
  int listen_backlog = 511;
};

class ExclusiveServer : public httplib::Server {
 public:
  explicit ExclusiveServer(ListenOptions options);

  // Binds host:port (port 0: any free port) and returns the port. Throws std::runtime_error saying why and what
  // to do (the port is in use, the address is not this machine's, …).
  int bindOrThrow(const std::string& host, int port);

  // After bindOrThrow: serves (listen_after_bind) on a new thread, which the caller joins after stopping the server.
  // Returns once the accept loop runs (at most 10 s), since httplib's stop() does not end a loop that has not
  // started yet.
  std::thread serveInBackground();

 private:
  const ListenOptions options_;
};

}  // namespace testfleet
