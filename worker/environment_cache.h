// Prepared environments kept on the worker's disk, one read-only folder per key, each made once. Thread-safe, and
// safe between workers sharing the folder: whoever finds a key missing takes its lock (flock on KEY.lock), prepares
// into a temporary folder and renames it into place, so a half-written tree is never seen under the key; the others
// wait on the lock and then use the tree. Kept until removed by hand (they are not evicted yet).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace testfleet::worker {

struct EnvironmentEntry {
  std::filesystem::path dir;  // the prepared tree; empty when preparing failed
  bool prepared = false;      // this call prepared it
  std::string error;          // why preparing failed
};

class EnvironmentCache {
 public:
  explicit EnvironmentCache(std::filesystem::path root);
  // The tree for `key`, calling prepare(temporary folder) first when there is none. prepare fills the folder
  // (writable by anyone: a sandbox's uid writes it) and returns "" or why it failed; a failed folder is removed.
  // The tree is made read-only (and the worker's own when it is root) before it is renamed into place.
  EnvironmentEntry get(const std::string& key, const std::function<std::string(const std::filesystem::path&)>& prepare);

 private:
  std::filesystem::path root_;
  std::atomic<uint64_t> sequence_{0};  // temporary folders' names
};

}  // namespace testfleet::worker
