#include "worker/bundle_cache.h"

#include <unistd.h>

#include <fstream>

#include "common/http_client.h"

namespace testfleet::worker {
namespace fs = std::filesystem;
namespace {

bool isHexSha256(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// The archive's bytes, or an error. file:// reads a local path (for bundles on a shared volume).
std::string fetch(const std::string& url, uint64_t max_bytes, std::string& error) {
  if (url.starts_with("file://")) {
    const fs::path path = url.substr(7);
    std::error_code ec;
    auto size = fs::file_size(path, ec);
    if (ec) {
      error = "cannot read bundle " + path.string() + ": " + ec.message();
      return {};
    }
    if (size > max_bytes) {
      error = "bundle " + path.string() + " is " + std::to_string(size) + " bytes, over the limit of " +
              std::to_string(max_bytes);
      return {};
    }
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    error = "bundle URL '" + url.substr(0, 200) + "' is not http(s):// or file://";
    return {};
  }
  HttpClient http(std::chrono::minutes(2), max_bytes);
  HttpResponse r = http.get(url);
  if (!r.error.empty() || r.status != 200) {
    error = "cannot fetch bundle " + url.substr(0, 200) + ": " +
            (r.error.empty() ? "HTTP " + std::to_string(r.status) : r.error);
    return {};
  }
  return std::move(r.body);
}

}  // namespace

BundleCache::BundleCache(fs::path root, BundleLimits limits, bool allow_file_urls)
    : root_(std::move(root)), limits_(limits), allow_file_urls_(allow_file_urls) {}

BundleFetch BundleCache::get(const v1::Bundle& bundle) {
  BundleFetch out;
  if (!isHexSha256(bundle.sha256())) {
    out.error = "bundle sha256 '" + bundle.sha256().substr(0, 80) + "' is not 64 lowercase hex digits";
    return out;
  }
  std::shared_ptr<std::mutex> lock;
  uint64_t n = 0;
  {
    std::lock_guard g(mu_);
    auto& slot = per_hash_[bundle.sha256()];
    if (!slot) slot = std::make_shared<std::mutex>();
    lock = slot;
    n = sequence_++;
  }
  std::lock_guard g(*lock);
  const fs::path dir = root_ / bundle.sha256();
  std::error_code ec;
  if (fs::is_directory(dir, ec)) {
    out.dir = dir;
    out.cached = true;
    return out;
  }
  if (bundle.url().starts_with("file://") && !allow_file_urls_) {
    out.error = "bundle URL is file://, which this worker does not accept (--allow-file-bundles)";
    return out;
  }
  std::string bytes = fetch(bundle.url(), limits_.max_archive_bytes, out.error);
  if (!out.error.empty()) {
    out.transient = true;
    return out;
  }
  if (sha256Hex(bytes) != bundle.sha256()) {
    // The hash found is not told: it would let a job learn the hash of any file the worker can fetch.
    out.error = "bundle from " + bundle.url().substr(0, 200) + " does not have the SHA-256 the job expects (" +
                bundle.sha256() + ")";
    return out;
  }
  // Unpacked beside its final place, then renamed: a worker killed half-way leaves no tree that looks complete.
  fs::create_directories(root_, ec);
  const fs::path partial = root_ / (bundle.sha256() + ".partial-" + std::to_string(::getpid()) + "-" + std::to_string(n));
  fs::remove_all(partial, ec);
  try {
    unpackBundle(bytes, partial, limits_);
  } catch (const std::exception& e) {
    fs::remove_all(partial, ec);
    out.error = std::string("unsafe or damaged bundle: ") + e.what();
    return out;
  }
  fs::permissions(partial, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec, ec);
  fs::rename(partial, dir, ec);
  if (ec) {
    fs::remove_all(partial, ec);
    out.error = "cannot keep the unpacked bundle in " + dir.string() + ": " + ec.message();
    return out;
  }
  out.dir = dir;
  return out;
}

}  // namespace testfleet::worker
