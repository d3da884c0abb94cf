#include "common/bundle.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "common/bundle_members.h"
#include "common/workspace_paths.h"

namespace testfleet {
namespace fs = std::filesystem;
namespace {

struct ArchiveWriteDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct ArchiveReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

[[noreturn]] void fail(const std::string& what, archive* a) {
  throw std::runtime_error(what + (a && archive_error_string(a) ? std::string(": ") + archive_error_string(a) : ""));
}

la_ssize_t appendTo(archive*, void* user, const void* data, size_t size) {
  static_cast<std::string*>(user)->append(static_cast<const char*>(data), size);
  return static_cast<la_ssize_t>(size);
}

std::string lowercaseHex(const unsigned char* bytes, unsigned int length) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
  return out;
}

}  // namespace

struct Sha256::Context {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md{EVP_MD_CTX_new(), EVP_MD_CTX_free};
};

Sha256::Sha256() : context_(std::make_unique<Context>()) {
  if (!context_->md || !EVP_DigestInit_ex(context_->md.get(), EVP_sha256(), nullptr)) {
    throw std::runtime_error("SHA-256 failed");
  }
}

Sha256::~Sha256() = default;

void Sha256::update(std::string_view bytes) {
  if (!EVP_DigestUpdate(context_->md.get(), bytes.data(), bytes.size())) throw std::runtime_error("SHA-256 failed");
}

std::string Sha256::hexDigest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!EVP_DigestFinal_ex(context_->md.get(), digest, &length)) throw std::runtime_error("SHA-256 failed");
  return lowercaseHex(digest, length);
}

std::string sha256Hex(std::string_view data) {
  Sha256 hash;
  hash.update(data);
  return hash.hexDigest();
}

std::string hmacSha256Hex(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
            data.size(), digest, &length)) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  return lowercaseHex(digest, length);
}

const std::vector<std::string>& defaultLeftOut() {
  static const std::vector<std::string> patterns = {
      ".git/",        ".hg/",         ".svn/", "__pycache__/", ".pytest_cache/",
      ".mypy_cache/", ".ruff_cache/", ".tox/", ".nox/",        "node_modules/.cache/"};
  return patterns;
}

PathPatterns bundleRules(const fs::path& root, const std::vector<std::string>& exclude) {
  PathPatterns rules;
  for (const auto& p : defaultLeftOut()) rules.add(p, "default");
  const fs::path ignore_file = root / ".testfleetignore";
  std::error_code ec;
  if (fs::is_regular_file(ignore_file, ec)) {
    std::ifstream in(ignore_file);
    if (!in) throw std::invalid_argument("cannot read " + ignore_file.string());
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
      if (std::string problem = rules.add(line, ".testfleetignore"); !problem.empty()) {
        throw std::invalid_argument(ignore_file.string() + ":" + std::to_string(number) + ": " + problem);
      }
    }
  }
  for (const auto& pattern : exclude) {
    if (std::string problem = rules.add(pattern, "exclude"); !problem.empty()) {
      throw std::invalid_argument("exclude: " + problem);
    }
  }
  return rules;
}

namespace {

struct Member {
  fs::path rel;
  BundleMembers::Kind kind = BundleMembers::Kind::kFile;
  std::string target;  // links
};

// Counts what is left out, per reason, with the first few paths in sorted order as examples (a walk meets them
// in the file system's order, which would make what submit prints differ from machine to machine).
void tally(std::vector<LeftOut>& left_out, const std::string& reason, const std::string& path) {
  auto it = std::find_if(left_out.begin(), left_out.end(), [&](const LeftOut& l) { return l.reason == reason; });
  if (it == left_out.end()) it = left_out.insert(left_out.end(), LeftOut{reason, 0, {}});
  ++it->count;
  it->examples.insert(std::upper_bound(it->examples.begin(), it->examples.end(), path), path);
  if (it->examples.size() > 3) it->examples.pop_back();
}

// Why an entry that no rule leaves out cannot travel, or "".
std::string cannotTravel(fs::file_type type, const std::string& target) {
  if (type == fs::file_type::symlink) return target.empty() || target.front() == '/' ? "absolute link" : "";
  if (type == fs::file_type::regular || type == fs::file_type::directory) return "";
  return "device, fifo or socket";
}

// Every entry under root that `leave_out` keeps and that can travel, sorted so that what is inside a folder
// follows it.
std::vector<Member> walkFolder(const fs::path& root, const PathPatterns& leave_out, const BundleLimits& limits,
                               std::vector<LeftOut>& left_out) {
  std::vector<Member> kept;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec), end;
  if (ec) throw std::runtime_error("cannot read " + root.string() + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) throw std::runtime_error("cannot read " + root.string() + ": " + ec.message());
    const fs::file_type type = it->symlink_status(ec).type();
    if (ec) throw std::runtime_error("cannot read " + it->path().string() + ": " + ec.message());
    const bool folder = type == fs::file_type::directory;
    const std::string rel = it->path().lexically_relative(root).generic_string();  // relative() follows links
    if (const PathRule* rule = leave_out.lastMatch(rel, folder); rule && !rule->negated) {
      tally(left_out, rule->source, folder ? rel + "/" : rel);
      if (folder) it.disable_recursion_pending();
      continue;
    }
    const std::string target = type == fs::file_type::symlink ? fs::read_symlink(it->path(), ec).string() : "";
    if (ec) throw std::runtime_error("cannot read the link " + it->path().string() + ": " + ec.message());
    if (std::string why = cannotTravel(type, target); !why.empty()) {
      tally(left_out, why, rel);
      continue;
    }
    const auto kind = folder                           ? BundleMembers::Kind::kFolder
                      : type == fs::file_type::symlink ? BundleMembers::Kind::kLink
                                                       : BundleMembers::Kind::kFile;
    kept.push_back({rel, kind, target});
    if (kept.size() > limits.max_entries) {
      throw std::runtime_error(root.string() + " has more than " + std::to_string(limits.max_entries) + " entries");
    }
  }
  std::sort(kept.begin(), kept.end(), [](const Member& a, const Member& b) { return a.rel < b.rel; });
  return kept;
}

// Keeps only the empty folders: one followed (in sorted order) by something inside it is implied by that.
void dropImpliedFolders(std::vector<Member>& members) {
  std::vector<Member> out;
  for (size_t i = 0; i < members.size(); ++i) {
    const bool has_inside = i + 1 < members.size() &&
                            members[i + 1].rel.generic_string().starts_with(members[i].rel.generic_string() + "/");
    if (members[i].kind != BundleMembers::Kind::kFolder || !has_inside) out.push_back(std::move(members[i]));
  }
  members = std::move(out);
}

// Leaves out links that, followed through what is packed, lead out of the folder or loop; again until none does
// (a link left out can change where another one leads).
void dropUnsafeLinks(std::vector<Member>& members, std::vector<LeftOut>& left_out) {
  BundleMembers tree;
  for (const auto& m : members) tree.add(m.rel.generic_string(), m.kind, m.target);
  std::set<std::string> dropped;
  for (bool again = true; again;) {
    again = false;
    for (const auto& link : tree.links()) {
      if (tree.linkProblem(link).empty()) continue;
      tree.removeLink(link);
      dropped.insert(link);
      again = true;
    }
  }
  std::erase_if(members, [&](const Member& m) {
    if (!dropped.count(m.rel.generic_string())) return false;
    tally(left_out, "link out of the folder", m.rel.generic_string());
    return true;
  });
}

}  // namespace

PackedBundle packDirectory(const fs::path& root, const BundleLimits& limits) {
  return packDirectory(root, bundleRules(root), limits);
}

PackedBundle packDirectory(const fs::path& root, const PathPatterns& leave_out, const BundleLimits& limits) {
  PackedBundle out;
  out.source = root.string();
  std::vector<Member> members = walkFolder(root, leave_out, limits, out.left_out);
  dropUnsafeLinks(members, out.left_out);
  dropImpliedFolders(members);
  std::sort(out.left_out.begin(), out.left_out.end(),
            [](const LeftOut& a, const LeftOut& b) { return a.reason < b.reason; });

  std::unique_ptr<archive, ArchiveWriteDeleter> a(archive_write_new());
  archive_write_set_format_pax_restricted(a.get());
  archive_write_add_filter_gzip(a.get());
  archive_write_set_options(a.get(), "gzip:!timestamp");  // gzip stores the packing time otherwise
  archive_write_set_bytes_in_last_block(a.get(), 1);
  std::string& buffer = out.archive;
  if (archive_write_open2(a.get(), &buffer, nullptr, appendTo, nullptr, nullptr) != ARCHIVE_OK) {
    fail("cannot start the bundle", a.get());
  }
  std::unique_ptr<archive_entry, EntryDeleter> entry(archive_entry_new());
  for (const auto& m : members) {
    const fs::path& rel = m.rel;
    std::string content;
    archive_entry_clear(entry.get());
    if (m.kind == BundleMembers::Kind::kFile) {
      std::ifstream in(root / rel, std::ios::binary);
      if (!in) throw std::runtime_error("cannot read " + (root / rel).string());
      content.assign((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      out.unpacked_bytes += content.size();
      if (out.unpacked_bytes > limits.max_unpacked_bytes) {
        throw std::runtime_error(root.string() + " holds more than " + std::to_string(limits.max_unpacked_bytes) +
                                 " bytes");
      }
      const bool exec = (fs::status(root / rel).permissions() & fs::perms::owner_exec) != fs::perms::none;
      archive_entry_set_pathname(entry.get(), rel.generic_string().c_str());
      archive_entry_set_filetype(entry.get(), AE_IFREG);
      archive_entry_set_perm(entry.get(), exec ? 0755 : 0644);
      archive_entry_set_size(entry.get(), static_cast<la_int64_t>(content.size()));
      out.file_paths.push_back(rel.generic_string());
      ++out.files;
    } else if (m.kind == BundleMembers::Kind::kLink) {
      archive_entry_set_pathname(entry.get(), rel.generic_string().c_str());
      archive_entry_set_filetype(entry.get(), AE_IFLNK);
      archive_entry_set_perm(entry.get(), 0777);
      archive_entry_set_symlink(entry.get(), m.target.c_str());
      ++out.links;
    } else {
      archive_entry_set_pathname(entry.get(), (rel.generic_string() + "/").c_str());
      archive_entry_set_filetype(entry.get(), AE_IFDIR);
      archive_entry_set_perm(entry.get(), 0755);
    }
    if (archive_write_header(a.get(), entry.get()) != ARCHIVE_OK) fail("cannot add " + rel.string(), a.get());
    if (!content.empty() && archive_write_data(a.get(), content.data(), content.size()) < 0) {
      fail("cannot add " + rel.string(), a.get());
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) fail("cannot finish the bundle", a.get());
  if (buffer.size() > limits.max_archive_bytes) {
    throw std::runtime_error("the bundle of " + root.string() + " is " + std::to_string(buffer.size()) +
                             " bytes packed, over the limit of " + std::to_string(limits.max_archive_bytes));
  }
  out.sha256 = sha256Hex(buffer);
  return out;
}

namespace {

[[noreturn]] void refuseLinkOrDevice(const std::string& why) {
  throw std::runtime_error("bundle link or device not allowed: " + why);
}

// Writes the entry's data to a new file at target, never through anything already there.
void writeEntryData(archive* a, const std::string& path, const fs::path& target, mode_t mode, uint64_t& total,
                    const BundleLimits& limits) {
  // O_EXCL and O_NOFOLLOW: never write through something already there (a second entry of the same name).
  int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) throw std::runtime_error("bundle entry '" + path + "' cannot be written (given twice?)");
  std::vector<char> chunk(1 << 16);
  while (true) {
    la_ssize_t n = archive_read_data(a, chunk.data(), chunk.size());
    if (n == 0) break;
    if (n < 0) {
      ::close(fd);
      fail("bundle entry '" + path + "' is damaged", a);
    }
    total += static_cast<uint64_t>(n);
    if (total > limits.max_unpacked_bytes) {
      ::close(fd);
      throw std::runtime_error("bundle unpacks to more than " + std::to_string(limits.max_unpacked_bytes) + " bytes");
    }
    if (::write(fd, chunk.data(), static_cast<size_t>(n)) != n) {
      ::close(fd);
      throw std::runtime_error("cannot write '" + path + "' while unpacking");
    }
  }
  ::close(fd);
}

// Makes the links, once every file is written (so nothing is ever written through one) and every link is known
// to stay inside dest.
void makeLinks(const std::vector<std::pair<std::string, std::string>>& links, const BundleMembers& members,
               const fs::path& dest) {
  for (const auto& [path, target] : links) {
    if (std::string why = members.linkProblem(path); !why.empty()) refuseLinkOrDevice(why);
  }
  for (const auto& [path, target] : links) {
    const fs::path at = dest / path;
    fs::create_directories(at.parent_path());
    if (::symlink(target.c_str(), at.c_str()) != 0) {
      throw std::runtime_error("bundle entry '" + path + "' cannot be made as a link: " + std::strerror(errno));
    }
  }
}

}  // namespace

void unpackBundle(std::string_view bytes, const fs::path& dest, const BundleLimits& limits) {
  if (bytes.size() > limits.max_archive_bytes) {
    throw std::runtime_error("bundle is " + std::to_string(bytes.size()) + " bytes, over the limit of " +
                             std::to_string(limits.max_archive_bytes));
  }
  std::unique_ptr<archive, ArchiveReadDeleter> a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK) fail("not a tar bundle", a.get());
  if (!fs::create_directory(dest)) throw std::runtime_error(dest.string() + " already exists");
  uint64_t total = 0;
  size_t entries = 0;
  archive_entry* entry = nullptr;
  BundleMembers members;
  std::vector<std::pair<std::string, std::string>> links;  // (path, target), made last
  while (true) {
    int rc = archive_read_next_header(a.get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) fail("bundle is damaged", a.get());
    if (++entries > limits.max_entries) {
      throw std::runtime_error("bundle has more than " + std::to_string(limits.max_entries) + " entries");
    }
    const char* raw = archive_entry_pathname(entry);
    std::string path = raw ? raw : "";
    while (path.starts_with("./")) path.erase(0, 2);
    if (path.empty()) continue;  // "./" itself
    if (!isSafeRelativePath(path, 4096))
      throw std::runtime_error("bundle entry '" + path + "' would leave the workspace");
    while (path.ends_with('/')) path.pop_back();
    if (const char* hard = archive_entry_hardlink(entry)) {
      refuseLinkOrDevice("'" + path + "' is a hard link (to '" + std::string(hard).substr(0, 200) + "')");
    }
    const auto type = archive_entry_filetype(entry);
    const auto kind = type == AE_IFDIR   ? BundleMembers::Kind::kFolder
                      : type == AE_IFLNK ? BundleMembers::Kind::kLink
                                         : BundleMembers::Kind::kFile;
    if (type != AE_IFDIR && type != AE_IFLNK && type != AE_IFREG) {
      refuseLinkOrDevice("'" + path + "' is a device, fifo or socket; a bundle holds files, folders and links");
    }
    const char* link_target = type == AE_IFLNK ? archive_entry_symlink(entry) : nullptr;
    const std::string target_text = link_target ? std::string(link_target).substr(0, 4097) : "";
    if (target_text.size() > 4096) refuseLinkOrDevice("'" + path + "' is a link to a target over 4096 bytes");
    if (std::string why = members.add(path, kind, target_text); !why.empty()) {
      if (kind == BundleMembers::Kind::kLink) refuseLinkOrDevice(why);
      throw std::runtime_error("bundle entry " + why);
    }
    const fs::path target = dest / fs::path(path).relative_path();
    if (kind == BundleMembers::Kind::kFolder) {
      fs::create_directories(target);
    } else if (kind == BundleMembers::Kind::kLink) {
      links.emplace_back(path, target_text);
    } else {
      fs::create_directories(target.parent_path());
      writeEntryData(a.get(), path, target, (archive_entry_perm(entry) & 0100) ? 0755 : 0644, total, limits);
    }
  }
  makeLinks(links, members, dest);
}

}  // namespace testfleet
