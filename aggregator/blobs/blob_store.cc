#include "aggregator/blobs/blob_store.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace testfleet::aggregator {
namespace fs = std::filesystem;
namespace {
constexpr std::string_view kPartial = ".partial-";

std::string mib(uint64_t bytes) { return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB"; }

struct StoredBlob {
  fs::path path;
  fs::file_time_type used;
  uint64_t bytes;
};

// The finished blobs in dir, least recently used first.
std::vector<StoredBlob> storedBlobs(const fs::path& dir) {
  std::vector<StoredBlob> all;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->path().filename().string().find(kPartial) != std::string::npos) continue;
    all.push_back({it->path(), it->last_write_time(ec), it->file_size(ec)});
  }
  std::sort(all.begin(), all.end(), [](const StoredBlob& a, const StoredBlob& b) { return a.used < b.used; });
  return all;
}
}  // namespace

BlobStore::BlobStore(BlobSettings settings, DiskSpacePtr disk)
    : settings_(std::move(settings)), disk_(std::move(disk)) {
  std::error_code ec;
  fs::create_directories(settings_.dir, ec);
  if (ec) throw std::runtime_error("cannot create the blob folder " + settings_.dir.string() + ": " + ec.message());
  for (auto it = fs::directory_iterator(settings_.dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (it->path().filename().string().find(kPartial) != std::string::npos) fs::remove(it->path(), ec);
  }
}

BlobStore::~BlobStore() = default;

std::optional<BlobProblem> BlobStore::makeRoom(uint64_t incoming) {
  uint64_t promised = 0, unwritten = 0;  // to uploads in flight: in all, and not yet on disk
  for (const Upload* u : uploads_) {
    promised += u->admitted_;
    unwritten += u->admitted_ - std::min<uint64_t>(u->written_, u->admitted_);
  }
  std::vector<StoredBlob> blobs = storedBlobs(settings_.dir);
  uint64_t total = 0;
  for (const auto& b : blobs) total += b.bytes;
  uint64_t available = disk_->availableBytes(settings_.dir);
  auto withinTotal = [&] { return total + promised + incoming <= settings_.max_total_bytes; };
  auto keepsFree = [&] { return available >= settings_.keep_free_bytes + unwritten + incoming; };

  const auto recent = fs::file_time_type::clock::now() - settings_.keep_recent;
  for (const auto& b : blobs) {
    if ((withinTotal() && keepsFree()) || b.used > recent) break;
    std::error_code ec;
    fs::remove(b.path, ec);
    if (ec) continue;
    total -= b.bytes;
    available += b.bytes;
    spdlog::info("blob store: removed {} ({} bytes, least recently used) to make room", b.path.filename().string(),
                 b.bytes);
  }
  const std::string kept_recent =
      "; bundles used within the last " + std::to_string(settings_.keep_recent.count() / 60) + " minutes are kept";
  if (!withinTotal()) {
    return BlobProblem{BlobProblem::kNoRoom, "the blob store is full (--max-blobs-gib)" + kept_recent +
                                                 ", so try again later or raise the limit"};
  }
  if (!keepsFree()) {
    return BlobProblem{BlobProblem::kNoRoom, "the disk holding the blob store has " + mib(available) + " free and " +
                                                 mib(settings_.keep_free_bytes) +
                                                 " of it is kept for the database (--min-free-gib)" + kept_recent +
                                                 "; free disk space or try again later"};
  }
  return std::nullopt;
}

BlobStore::Admission BlobStore::begin(const std::string& sha256, std::optional<uint64_t> declared) {
  if (declared && *declared > settings_.max_bytes) {
    return {nullptr, BlobProblem{BlobProblem::kTooLarge,
                                 "the blob is " + std::to_string(*declared) + " bytes, over the limit of " +
                                     std::to_string(settings_.max_bytes) + " (--max-blob-mib)"}};
  }
  const uint64_t admitted = declared.value_or(settings_.max_bytes);
  std::lock_guard lock(mu_);
  if (auto problem = makeRoom(admitted)) return {nullptr, std::move(problem)};
  const fs::path partial = settings_.dir / (sha256 + std::string(kPartial) + std::to_string(sequence_++));
  const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    return {nullptr,
            BlobProblem{BlobProblem::kWriteFailed, "cannot create " + partial.string() + ": " + std::strerror(errno)}};
  }
  std::unique_ptr<Upload> upload(new Upload(*this, sha256, admitted, partial, fd));
  uploads_.push_back(upload.get());
  return {std::move(upload), std::nullopt};
}

void BlobStore::release(const Upload* upload) {
  std::lock_guard lock(mu_);
  std::erase(uploads_, upload);
}

std::optional<fs::path> BlobStore::use(const std::string& sha256) {
  const fs::path path = settings_.dir / sha256;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  fs::last_write_time(path, fs::file_time_type::clock::now(), ec);  // recently used: kept longest
  return path;
}

bool BlobStore::contains(const std::string& sha256) const {
  std::error_code ec;
  return fs::is_regular_file(settings_.dir / sha256, ec);
}

BlobStore::Upload::Upload(BlobStore& store, std::string sha256, uint64_t admitted, fs::path partial, int fd)
    : store_(store), sha256_(std::move(sha256)), admitted_(admitted), partial_(std::move(partial)), fd_(fd) {}

BlobStore::Upload::~Upload() {
  if (fd_ >= 0) ::close(fd_);
  if (!finished_) {
    std::error_code ec;
    fs::remove(partial_, ec);
  }
  store_.release(this);
}

bool BlobStore::Upload::write(std::string_view bytes) {
  if (problem_) return false;
  if (written_ + bytes.size() > admitted_) {
    problem_ = BlobProblem{BlobProblem::kTooLarge, "the blob is larger than " + std::to_string(admitted_) +
                                                       " bytes (its Content-Length, or --max-blob-mib)"};
    return false;
  }
  hash_.update(bytes);
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const bool full = errno == ENOSPC || errno == EDQUOT;
      problem_ = BlobProblem{full ? BlobProblem::kNoRoom : BlobProblem::kWriteFailed,
                             "cannot write the blob to " + store_.settings_.dir.string() + ": " + std::strerror(errno)};
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
    written_ += static_cast<uint64_t>(n);
  }
  return true;
}

bool BlobStore::Upload::finish() {
  if (problem_) return false;
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) {
    problem_ = BlobProblem{BlobProblem::kWriteFailed, "cannot store the blob: " + std::string(std::strerror(errno))};
    return false;
  }
  if (const std::string actual = hash_.hexDigest(); actual != sha256_) {
    problem_ = BlobProblem{BlobProblem::kWrongHash, "the body's SHA-256 is " + actual + ", not " + sha256_};
    return false;
  }
  std::error_code ec;
  fs::rename(partial_, store_.settings_.dir / sha256_, ec);
  if (ec) {
    problem_ = BlobProblem{BlobProblem::kWriteFailed, "cannot store the blob: " + ec.message()};
    return false;
  }
  finished_ = true;
  return true;
}

}  // namespace testfleet::aggregator
