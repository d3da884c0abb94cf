#include "worker/sandbox/memory_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace testfleet::worker {

MemoryFile::MemoryFile(const char* name) : fd_(::memfd_create(name, MFD_CLOEXEC)) {
  if (fd_ < 0) throw std::runtime_error(std::string("memfd_create: ") + std::strerror(errno));
}

MemoryFile MemoryFile::copyOf(const std::string& path) {
  MemoryFile file("testfleet-copy");
  int in = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
  char buf[65536];
  ssize_t n = 0;
  bool ok = true;
  while (ok && (n = ::read(in, buf, sizeof buf)) > 0) ok = ::write(file.fd_, buf, static_cast<size_t>(n)) == n;
  ::close(in);
  if (!ok || n < 0) throw std::runtime_error("cannot copy " + path + ": " + std::strerror(errno));
  return file;
}

MemoryFile::~MemoryFile() {
  if (fd_ >= 0) ::close(fd_);
}

MemoryFile::MemoryFile(MemoryFile&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}

int MemoryFile::openForChild() const {
  // A new open file description, so each child reads from offset 0 independently of the others.
  const std::string path = "/proc/self/fd/" + std::to_string(fd_);
  return ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
}

}  // namespace testfleet::worker
