// Fetched bundles, unpacked once per hash and shared read-only by every job that names them. Thread-safe.
// The cache holds at most max_bytes of unpacked trees: when a new one pushes it over, the least recently used
// trees that no running job holds are removed.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/bundle.h"
#include "testfleet/v1/testfleet.pb.h"

namespace testfleet::worker {

struct BundleFetch {
  std::filesystem::path dir;    // the unpacked tree; empty on failure
  std::string error;            // why it failed (fetch, hash, unsafe or oversized archive)
  bool cached = false;          // it was already here
  bool transient = false;       // the fetch failed (may work later); a bad hash or archive will not
  std::shared_ptr<void> lease;  // keeps the tree from eviction while the job runs
};

// The origin of an http(s) URL as "scheme://host:port" (lowercase, default port filled in), or "" when the URL is
// not a plain http(s) URL (no user info, a host, a valid port).
std::string urlOrigin(const std::string& url);

class BundleCache {
 public:
  // http(s) bundles are fetched only from `allowed_origins` (each as urlOrigin gives it: by default the
  // aggregator's), so a job cannot make the worker fetch from its own network (loopback, metadata services).
  explicit BundleCache(std::filesystem::path root, BundleLimits limits = {}, bool allow_file_urls = false,
                       uint64_t max_bytes = 4ull << 30, std::vector<std::string> allowed_origins = {});
  // Fetches (http, https or file URL), checks the SHA-256, unpacks safely into root/<sha256>; a second call for the
  // same hash waits for the first and reuses its tree. A URL from an origin that is not allowed is refused before
  // anything is sent.
  BundleFetch get(const v1::Bundle& bundle);
  uint64_t bytes() const;
  size_t entries() const;

 private:
  struct Entry {
    uint64_t bytes = 0;
    std::chrono::steady_clock::time_point used;
    int holders = 0;
    std::shared_ptr<std::mutex> fetching = std::make_shared<std::mutex>();
    bool present = false;
  };
  std::shared_ptr<void> hold(const std::string& sha);
  void evictOver(const std::string& keep);

  std::filesystem::path root_;
  BundleLimits limits_;
  bool allow_file_urls_;
  uint64_t max_bytes_;
  std::vector<std::string> allowed_origins_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
  uint64_t sequence_ = 0;
};

}  // namespace testfleet::worker
