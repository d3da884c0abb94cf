// Host identities for sandboxes. A worker run as root never lets a job run as root: each running job gets a
// uid/gid of its own from a dedicated range (one per slot) that owns no file on the host, so a job cannot write
// anything privileged, and concurrent jobs cannot signal or read each other. Bubblewrap then runs unprivileged and
// maps that uid to the sandbox's uid 1000; the host's root is not mapped inside at all.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

namespace testfleet::worker {

// Thread-safe pool of the range [first, first + count).
class SandboxUids {
 public:
  SandboxUids(uid_t first, size_t count);

  // One uid held for one job; returned to the pool on destruction. The job's processes are gone by then: they all
  // live in the sandbox's pid namespace, which the kernel ends with its first process (and the cgroup is killed).
  class Lease {
   public:
    Lease(SandboxUids* pool, uid_t uid) : pool_(pool), uid_(uid) {}
    Lease(Lease&& o) noexcept : pool_(o.pool_), uid_(o.uid_) { o.pool_ = nullptr; }
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    uid_t uid() const { return uid_; }

   private:
    SandboxUids* pool_;
    uid_t uid_;
  };

  // Waits while every uid of the range is in use.
  Lease acquire();

  // Checks that this process may switch to the range (it must run as root); returns what is wrong, or "".
  static std::string probe(uid_t first, size_t count);
  // The first folder on the way to `path` (itself included) that `uid`, with no supplementary groups, may not pass
  // through by its mode bits, or "" when it may reach it. Bubblewrap, running as that uid, resolves every folder it
  // mounts by path, so the worker's job folders must be reachable.
  static std::string blockedOnTheWay(uid_t uid, const std::filesystem::path& path);

 private:
  void release(uid_t uid);

  std::mutex mu_;  // guards free_
  std::condition_variable freed_;
  std::vector<uid_t> free_;
};

}  // namespace testfleet::worker
