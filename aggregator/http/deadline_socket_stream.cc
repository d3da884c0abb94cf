#include "aggregator/http/deadline_socket_stream.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace testfleet::aggregator {
namespace {
constexpr size_t kBufferBytes = 64 << 10;

void numericAddress(const sockaddr_storage& address, socklen_t length, std::string& ip, int& port) {
  char host[NI_MAXHOST], service[NI_MAXSERV];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&address), length, host, sizeof host, service, sizeof service,
                  NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
    ip = host;
    port = std::atoi(service);
  }
}

// The value of header `name` (lowercase, with the colon) in a lowercased header block, if present.
std::optional<std::string> headerValue(const std::string& lowered, const std::string& name) {
  const size_t at = lowered.find("\r\n" + name);
  if (at == std::string::npos) return std::nullopt;
  const size_t start = lowered.find_first_not_of(' ', at + 2 + name.size());
  const size_t end = lowered.find("\r\n", at + 2);
  return lowered.substr(start, end - start);
}
}  // namespace

DeadlineSocketStream::DeadlineSocketStream(int sock, int stop_fd, Timeouts timeouts)
    : sock_(sock), stop_fd_(stop_fd), timeouts_(timeouts), buffer_(kBufferBytes) {
  beginRequest();
}

void DeadlineSocketStream::beginRequest() {
  header_deadline_ = Clock::now() + timeouts_.header;
  in_header_ = true;
  header_.clear();
  body_length_.reset();
  body_chunked_ = false;
  body_read_ = 0;
}

bool DeadlineSocketStream::readyForAnotherRequest() const {
  if (in_header_ || body_chunked_) return false;
  return body_read_ >= body_length_.value_or(0);
}

bool DeadlineSocketStream::waitFor(short events, Clock::time_point deadline) const {
  pollfd fds[2] = {{sock_, events, 0}, {stop_fd_, POLLIN, 0}};
  while (true) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    const int n = ::poll(fds, 2, static_cast<int>(std::min<long long>(left, 60'000)));
    if (n < 0 && errno != EINTR) return false;
    if (n <= 0) continue;
    if (fds[1].revents != 0) return false;  // stopping
    return fds[0].revents != 0;             // ready, or hung up / failed: the next recv/send says which
  }
}

DeadlineSocketStream::Clock::time_point DeadlineSocketStream::readDeadline() const {
  return in_header_ ? header_deadline_ : Clock::now() + timeouts_.idle;
}

bool DeadlineSocketStream::is_readable() const { return begin_ < end_ || waitFor(POLLIN, readDeadline()); }

bool DeadlineSocketStream::is_writable() const { return waitFor(POLLOUT, Clock::now() + timeouts_.idle); }

ssize_t DeadlineSocketStream::fill() {
  while (true) {
    if (!waitFor(POLLIN, readDeadline())) return -1;
    const ssize_t n = ::recv(sock_, buffer_.data(), buffer_.size(), MSG_DONTWAIT);
    if (n >= 0) {
      begin_ = 0;
      end_ = static_cast<size_t>(n);
      return n;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return -1;
  }
}

ssize_t DeadlineSocketStream::read(char* ptr, size_t size) {
  if (begin_ == end_) {
    if (const ssize_t got = fill(); got <= 0) return got;
  }
  size_t n = std::min(size, end_ - begin_);
  if (in_header_) {
    // Hand out header bytes up to its end (the blank line), so that what follows is counted as body.
    for (size_t i = 0; i < n; ++i) {
      header_ += buffer_[begin_ + i];
      if (header_.ends_with("\r\n\r\n")) {
        n = i + 1;
        sawHeaderEnd();
        break;
      }
    }
    if (in_header_ && header_.size() > kMaxHeaderBytes) return -1;
  } else {
    body_read_ += n;
  }
  std::memcpy(ptr, buffer_.data() + begin_, n);
  begin_ += n;
  return static_cast<ssize_t>(n);
}

void DeadlineSocketStream::sawHeaderEnd() {
  in_header_ = false;
  std::string lowered = header_;
  std::transform(lowered.begin(), lowered.end(), lowered.begin(), [](unsigned char c) { return std::tolower(c); });
  body_chunked_ = headerValue(lowered, "transfer-encoding:").has_value();
  if (auto length = headerValue(lowered, "content-length:")) {
    try {
      body_length_ = std::stoull(*length);
    } catch (const std::exception&) {
      body_chunked_ = true;  // unknown length: the connection is not reused
    }
  }
}

ssize_t DeadlineSocketStream::write(const char* ptr, size_t size) {
  size_t sent = 0;
  while (sent < size) {
    if (!waitFor(POLLOUT, Clock::now() + timeouts_.idle)) return -1;
    const ssize_t n = ::send(sock_, ptr + sent, size - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      return -1;
    }
  }
  return static_cast<ssize_t>(size);
}

void DeadlineSocketStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getpeername(sock_, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    numericAddress(address, length, ip, port);
  }
}

void DeadlineSocketStream::get_local_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(sock_, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    numericAddress(address, length, ip, port);
  }
}

}  // namespace testfleet::aggregator
