// Bundles: a suite's folder packed into one gzip'd tar addressed by its SHA-256, so a job names its workspace
// instead of carrying it. Packing is deterministic (sorted entries, no times or owners), so the same folder gives
// the same hash and workers keep a cache hit across runs. Unpacking treats the archive as hostile.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace testfleet {

// Lowercase hex SHA-256.
std::string sha256Hex(std::string_view data);

// Lowercase hex HMAC-SHA256 of data with key (RFC 2104): how a webhook receiver checks that a body came from
// whoever holds the key. Throws std::runtime_error if libcrypto fails.
std::string hmacSha256Hex(std::string_view key, std::string_view data);

// SHA-256 of bytes that arrive in pieces (an upload streamed to disk); hexDigest() gives what sha256Hex would
// have given for all of them together, and ends the hashing. Throws std::runtime_error if libcrypto fails.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view bytes);
  std::string hexDigest();

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

struct BundleLimits {
  uint64_t max_archive_bytes = 256ull << 20;  // the packed size
  uint64_t max_unpacked_bytes = 1ull << 30;   // all files together
  size_t max_entries = 100000;
};

struct PackedBundle {
  std::string archive;  // the .tar.gz bytes
  std::string sha256;
  size_t files = 0;
  uint64_t unpacked_bytes = 0;
};

// Packs every regular file under root, keeping the executable bit; symlinks are skipped, and hidden entries,
// __pycache__ and node_modules left out (leftOutOfTree, the rule the producer lists tests by). Throws
// std::runtime_error naming the problem (unreadable, over a limit).
PackedBundle packDirectory(const std::filesystem::path& root, const BundleLimits& limits = {});

// Unpacks a tar (gzip, zstd, xz or none) into dest, which must not exist yet. Only plain files and folders with
// relative paths inside dest are accepted: no "..", no absolute paths, no links or devices; sizes and entry
// counts are capped. Throws std::runtime_error naming the first bad entry; dest may then hold a partial tree.
void unpackBundle(std::string_view archive, const std::filesystem::path& dest, const BundleLimits& limits = {});

}  // namespace testfleet
