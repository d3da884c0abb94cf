#include "worker/bundle_cache.h"

#include <algorithm>
#include <cctype>

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

uint64_t treeBytes(const fs::path& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->symlink_status(ec).type() == fs::file_type::regular) total += it->file_size(ec);  // links: not twice
  }
  return total;
}

// Why this worker does not fetch from `url`, or "": file:// only when allowed, http(s) only from the allowed origins.
std::string refusal(const std::string& url, bool allow_file_urls, const std::vector<std::string>& allowed_origins) {
  if (url.starts_with("file://") && !allow_file_urls) {
    return "bundle URL is file://, which this worker does not accept (--allow-file-bundles)";
  }
  if (!url.starts_with("file://")) {
    const std::string origin = urlOrigin(url);
    if (origin.empty() || std::find(allowed_origins.begin(), allowed_origins.end(), origin) == allowed_origins.end()) {
      std::string allowed;
      for (const auto& o : allowed_origins) allowed += (allowed.empty() ? "" : ", ") + o;
      return "bundle URL '" + url.substr(0, 200) + "' is not from an origin this worker fetches from (" +
             (allowed.empty() ? "none" : allowed) + "; see --aggregator and --allow-bundle-origin)";
    }
  }
  return "";
}

// Unpacks the archive at `partial` and renames it to `dir`. Returns what went wrong (and leaves nothing at
// `partial`), or "".
std::string unpackTo(const std::string& bytes, const fs::path& partial, const fs::path& dir,
                     const BundleLimits& limits) {
  std::error_code ec;
  fs::remove_all(partial, ec);
  try {
    unpackBundle(bytes, partial, limits);
  } catch (const std::exception& e) {
    fs::remove_all(partial, ec);
    return std::string("unsafe or damaged bundle: ") + e.what();
  }
  fs::permissions(partial,
                  fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                      fs::perms::others_exec,
                  ec);
  fs::remove_all(dir, ec);  // a tree evicted from the map but not yet from disk
  fs::rename(partial, dir, ec);
  if (ec) {
    fs::remove_all(partial, ec);
    return "cannot keep the unpacked bundle in " + dir.string() + ": " + ec.message();
  }
  return "";
}

}  // namespace

std::string urlOrigin(const std::string& url) {
  std::string scheme;
  if (url.starts_with("http://"))
    scheme = "http";
  else if (url.starts_with("https://"))
    scheme = "https";
  else
    return "";
  const size_t start = scheme.size() + 3;
  const size_t end = url.find_first_of("/?#", start);
  std::string authority = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (authority.empty() || authority.find('@') != std::string::npos) return "";
  for (char& c : authority) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string host = authority, port = scheme == "http" ? "80" : "443";
  const size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {  // not inside [v6]
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) == 0 || std::stoi(port) > 65535) {
      return "";
    }
    port = std::to_string(std::stoi(port));
  }
  if (host.empty()) return "";
  return scheme + "://" + host + ":" + port;
}

BundleCache::BundleCache(fs::path root, BundleLimits limits, bool allow_file_urls, uint64_t max_bytes,
                         std::vector<std::string> allowed_origins)
    : root_(std::move(root)),
      limits_(limits),
      allow_file_urls_(allow_file_urls),
      max_bytes_(max_bytes),
      allowed_origins_(std::move(allowed_origins)) {
  // Trees a previous run of this worker left: kept (same hash, same content) and counted; half-unpacked ones go.
  std::error_code ec;
  for (auto it = fs::directory_iterator(root_, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (isHexSha256(name) && it->is_directory(ec)) {
      Entry& e = entries_[name];
      e.bytes = treeBytes(it->path());
      e.present = true;
      e.used = std::chrono::steady_clock::now();
    } else if (name.find(".partial-") != std::string::npos) {
      fs::remove_all(it->path(), ec);
    }
  }
}

uint64_t BundleCache::bytes() const {
  std::lock_guard g(mu_);
  uint64_t total = 0;
  for (const auto& [sha, e] : entries_) total += e.present ? e.bytes : 0;
  return total;
}

size_t BundleCache::entries() const {
  std::lock_guard g(mu_);
  size_t n = 0;
  for (const auto& [sha, e] : entries_) n += e.present;
  return n;
}

std::shared_ptr<void> BundleCache::hold(const std::string& sha) {
  std::lock_guard g(mu_);
  Entry& e = entries_[sha];
  ++e.holders;
  e.used = std::chrono::steady_clock::now();
  return std::shared_ptr<void>(nullptr, [this, sha](void*) {
    std::lock_guard g(mu_);
    --entries_[sha].holders;
  });
}

// Removes least recently used trees nobody holds until the cache fits (the one just added stays regardless).
void BundleCache::evictOver(const std::string& keep) {
  std::lock_guard g(mu_);
  auto total = [&] {
    uint64_t t = 0;
    for (const auto& [sha, e] : entries_) t += e.present ? e.bytes : 0;
    return t;
  };
  while (total() > max_bytes_) {
    auto victim = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (!it->second.present || it->second.holders > 0 || it->first == keep) continue;
      if (victim == entries_.end() || it->second.used < victim->second.used) victim = it;
    }
    if (victim == entries_.end()) return;  // everything left is in use
    std::error_code ec;
    fs::remove_all(root_ / victim->first, ec);
    victim->second.present = false;
    victim->second.bytes = 0;
  }
}

BundleFetch BundleCache::get(const v1::Bundle& bundle) {
  BundleFetch out;
  if (!isHexSha256(bundle.sha256())) {
    out.error = "bundle sha256 '" + bundle.sha256().substr(0, 80) + "' is not 64 lowercase hex digits";
    return out;
  }
  const std::string& sha = bundle.sha256();
  out.lease = hold(sha);  // from here on the tree cannot be evicted under this job
  std::shared_ptr<std::mutex> fetching;
  uint64_t n = 0;
  {
    std::lock_guard g(mu_);
    Entry& e = entries_[sha];
    fetching = e.fetching;
    n = sequence_++;
  }
  std::lock_guard one_fetch(*fetching);
  const fs::path dir = root_ / sha;
  {
    std::lock_guard g(mu_);
    if (entries_[sha].present) {
      out.dir = dir;
      out.cached = true;
      return out;
    }
  }
  if (std::string refused = refusal(bundle.url(), allow_file_urls_, allowed_origins_); !refused.empty()) {
    out.error = refused;
    return out;
  }
  std::string bytes = fetch(bundle.url(), limits_.max_archive_bytes, out.error);
  if (!out.error.empty()) {
    out.transient = true;
    return out;
  }
  if (sha256Hex(bytes) != sha) {
    // The hash found is not told: it would let a job learn the hash of any file the worker can fetch.
    out.error =
        "bundle from " + bundle.url().substr(0, 200) + " does not have the SHA-256 the job expects (" + sha + ")";
    return out;
  }
  // Unpacked beside its final place, then renamed: a worker killed half-way leaves no tree that looks complete.
  std::error_code ec;
  fs::create_directories(root_, ec);
  const fs::path partial = root_ / (sha + ".partial-" + std::to_string(::getpid()) + "-" + std::to_string(n));
  if (std::string problem = unpackTo(bytes, partial, dir, limits_); !problem.empty()) {
    out.error = problem;
    return out;
  }
  {
    std::lock_guard g(mu_);
    Entry& e = entries_[sha];
    e.present = true;
    e.bytes = treeBytes(dir);
  }
  evictOver(sha);
  out.dir = dir;
  return out;
}

}  // namespace testfleet::worker
