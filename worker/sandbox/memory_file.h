// A file that lives only in memory (memfd) and is handed to children by descriptor: the seccomp program, the stage
// runner's binary. Each child gets a descriptor of its own that reads from the start. Owns the memfd.
#pragma once

#include <string>

namespace testfleet::worker {

class MemoryFile {
 public:
  // Throws std::runtime_error when no memfd can be made.
  explicit MemoryFile(const char* name);
  // A copy of the file at `path`; throws std::runtime_error saying what failed.
  static MemoryFile copyOf(const std::string& path);
  ~MemoryFile();
  MemoryFile(MemoryFile&& o) noexcept;
  MemoryFile& operator=(MemoryFile&&) = delete;
  MemoryFile(const MemoryFile&) = delete;

  int fd() const { return fd_; }  // for writing the content once
  // A fresh read-only descriptor positioned at the start, close-on-exec; -1 on failure. The caller closes it.
  int openForChild() const;

 private:
  int fd_ = -1;
};

}  // namespace testfleet::worker
