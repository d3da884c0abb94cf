#include "common/bundle.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <vector>

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

PackedBundle packDirectory(const fs::path& root, const BundleLimits& limits) {
  std::vector<fs::path> files;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec), end;
  if (ec) throw std::runtime_error("cannot read " + root.string() + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) throw std::runtime_error("cannot read " + root.string() + ": " + ec.message());
    if (leftOutOfTree(it->path().filename().string())) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_symlink() || !it->is_regular_file()) continue;
    files.push_back(fs::relative(it->path(), root));
    if (files.size() > limits.max_entries) {
      throw std::runtime_error(root.string() + " has more than " + std::to_string(limits.max_entries) + " files");
    }
  }
  std::sort(files.begin(), files.end());

  PackedBundle out;
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
  for (const auto& rel : files) {
    std::ifstream in(root / rel, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + (root / rel).string());
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    out.unpacked_bytes += content.size();
    if (out.unpacked_bytes > limits.max_unpacked_bytes) {
      throw std::runtime_error(root.string() + " holds more than " + std::to_string(limits.max_unpacked_bytes) +
                               " bytes");
    }
    const bool exec = (fs::status(root / rel).permissions() & fs::perms::owner_exec) != fs::perms::none;
    archive_entry_clear(entry.get());
    archive_entry_set_pathname(entry.get(), rel.generic_string().c_str());
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), exec ? 0755 : 0644);
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(content.size()));
    if (archive_write_header(a.get(), entry.get()) != ARCHIVE_OK) fail("cannot add " + rel.string(), a.get());
    if (!content.empty() && archive_write_data(a.get(), content.data(), content.size()) < 0) {
      fail("cannot add " + rel.string(), a.get());
    }
    ++out.files;
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) fail("cannot finish the bundle", a.get());
  if (buffer.size() > limits.max_archive_bytes) {
    throw std::runtime_error("the bundle of " + root.string() + " is " + std::to_string(buffer.size()) +
                             " bytes packed, over the limit of " + std::to_string(limits.max_archive_bytes));
  }
  out.sha256 = sha256Hex(buffer);
  return out;
}

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
  std::vector<char> chunk(1 << 16);
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
    const auto type = archive_entry_filetype(entry);
    const fs::path target = dest / fs::path(path).relative_path();
    if (type == AE_IFDIR) {
      fs::create_directories(target);
      continue;
    }
    if (type != AE_IFREG) {
      throw std::runtime_error("bundle entry '" + path + "' is a link or device; only files and folders are allowed");
    }
    fs::create_directories(target.parent_path());
    const mode_t mode = (archive_entry_perm(entry) & 0100) ? 0755 : 0644;
    // O_EXCL and O_NOFOLLOW: never write through something already there (a second entry of the same name).
    int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) throw std::runtime_error("bundle entry '" + path + "' cannot be written (given twice?)");
    while (true) {
      la_ssize_t n = archive_read_data(a.get(), chunk.data(), chunk.size());
      if (n == 0) break;
      if (n < 0) {
        ::close(fd);
        fail("bundle entry '" + path + "' is damaged", a.get());
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
}

}  // namespace testfleet
