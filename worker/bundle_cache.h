// Fetched bundles, unpacked once per hash and shared read-only by every job that names them. Thread-safe.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/bundle.h"
#include "testfleet/v1/testfleet.pb.h"

namespace testfleet::worker {

struct BundleFetch {
  std::filesystem::path dir;  // the unpacked tree; empty on failure
  std::string error;          // why it failed (fetch, hash, unsafe or oversized archive)
  bool cached = false;        // it was already here
  bool transient = false;     // the fetch failed (may work later); a bad hash or archive will not
};

class BundleCache {
 public:
  explicit BundleCache(std::filesystem::path root, BundleLimits limits = {}, bool allow_file_urls = false);
  // Fetches (http, https or file URL), checks the SHA-256, unpacks safely into root/<sha256>; a second call for the
  // same hash waits for the first and reuses its tree.
  BundleFetch get(const v1::Bundle& bundle);

 private:
  std::filesystem::path root_;
  BundleLimits limits_;
  bool allow_file_urls_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<std::mutex>> per_hash_;
  uint64_t sequence_ = 0;
};

}  // namespace testfleet::worker
