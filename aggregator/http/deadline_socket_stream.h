// An httplib::Stream over one accepted connection that bounds time, not only silence. Each request's header must
// be complete within `header` of the moment the connection became ready for it (accepted, or the previous answer
// sent), however slowly its bytes trickle in, and may be at most kMaxHeaderBytes; after the header, a read or a
// write that makes no progress for `idle` fails. Every wait also ends as soon as `stop_fd` is readable (the
// server is stopping). Used by one connection thread at a time; does not own the socket.
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace testfleet::aggregator {

class DeadlineSocketStream final : public httplib::Stream {
 public:
  struct Timeouts {
    std::chrono::milliseconds header{10'000};
    std::chrono::milliseconds idle{30'000};
  };
  static constexpr size_t kMaxHeaderBytes = 64 << 10;

  DeadlineSocketStream(int sock, int stop_fd, Timeouts timeouts);

  // Starts the next request on the connection: its header deadline counts from now.
  void beginRequest();
  // Whether the connection can carry another request: false when the last request's header never completed, or
  // its body was not read to the end (a refused upload) or had no declared length (chunked).
  bool readyForAnotherRequest() const;

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  int socket() const override { return sock_; }

 private:
  using Clock = std::chrono::steady_clock;
  // Until the socket is ready for `events`, the deadline passes or stop_fd is readable.
  bool waitFor(short events, Clock::time_point deadline) const;
  Clock::time_point readDeadline() const;
  // Reads more bytes into the empty buffer: how many, 0 at the end of the stream, -1 on a timeout or an error.
  ssize_t fill();
  void sawHeaderEnd();

  const int sock_;
  const int stop_fd_;
  const Timeouts timeouts_;
  Clock::time_point header_deadline_;
  bool in_header_ = true;
  std::string header_;                   // the current request's header bytes, as handed out
  std::optional<uint64_t> body_length_;  // Content-Length; nullopt: none declared
  bool body_chunked_ = false;
  uint64_t body_read_ = 0;  // body bytes handed out
  std::vector<char> buffer_;
  size_t begin_ = 0, end_ = 0;  // unread bytes are buffer_[begin_, end_)
};

}  // namespace testfleet::aggregator
