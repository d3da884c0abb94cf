// Bundles: a suite's folder packed into one gzip'd tar addressed by its SHA-256, so a job names its workspace
// instead of carrying it. Packing is deterministic (sorted entries, no times or owners), so the same folder gives
// the same hash and workers keep a cache hit across runs. Unpacking treats the archive as hostile.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/path_patterns.h"

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

// What packing left out for one reason: a rule's source ("default", ".testfleetignore", "exclude") or something
// that cannot travel safely ("absolute link", "link out of the folder", "device, fifo or socket").
struct LeftOut {
  std::string reason;
  size_t count = 0;                   // entries; a folder left out counts once, with everything below it
  std::vector<std::string> examples;  // the first few paths, sorted (a folder with a trailing "/")
};

struct PackedBundle {
  std::string archive;  // the .tar.gz bytes
  std::string sha256;
  std::string source;  // the folder packed, as given
  size_t files = 0;
  size_t links = 0;
  uint64_t unpacked_bytes = 0;
  std::vector<std::string> file_paths;  // the regular files packed, relative ("a/b.py"), sorted
  std::vector<LeftOut> left_out;        // by reason
};

// The patterns every bundle starts from: VCS folders (.git, .hg, .svn) and caches tools rebuild on their own
// (__pycache__, .pytest_cache, .mypy_cache, .ruff_cache, .tox, .nox, node_modules/.cache). A later "!" pattern
// can take any of them back.
const std::vector<std::string>& defaultLeftOut();

// What a folder is packed by: defaultLeftOut, then the folder's own .testfleetignore (gitignore syntax), then
// `exclude` (a suite's list); a later match wins. Throws std::invalid_argument naming the .testfleetignore line
// or the exclude pattern that is not a pattern, or a .testfleetignore that cannot be read.
PathPatterns bundleRules(const std::filesystem::path& root, const std::vector<std::string>& exclude = {});

// Packs root: regular files (keeping the executable bit), symbolic links whose relative target, followed through
// what is packed, stays inside root (BundleMembers), and empty folders. Left out, and counted in left_out: what
// `leave_out` matches (a folder with everything below it), absolute links, links that lead out of root or loop,
// devices, fifos and sockets. Throws std::runtime_error naming the problem (unreadable, over a limit).
PackedBundle packDirectory(const std::filesystem::path& root, const PathPatterns& leave_out,
                           const BundleLimits& limits = {});
// The same with bundleRules(root).
PackedBundle packDirectory(const std::filesystem::path& root, const BundleLimits& limits = {});

// Unpacks a tar (gzip, zstd, xz or none) into dest, which must not exist yet. Only files, folders and symbolic
// links with relative paths inside dest are accepted: no "..", no absolute paths, no devices, fifos, sockets or
// hard links, no member written through a link or given twice, and every link's target relative and, followed
// through the archive's members, inside dest (links are made last, after every file). Sizes and entry counts are
// capped. Throws std::runtime_error naming the first bad entry; dest may then hold a partial tree.
void unpackBundle(std::string_view archive, const std::filesystem::path& dest, const BundleLimits& limits = {});

}  // namespace testfleet
