// Bundles by SHA-256, one file each in one folder: submit uploads them, workers fetch them. Uploads stream to a
// partial file beside the blobs and become visible only once their hash is checked, so memory per upload is a
// few KiB however large the blob, and a reader never sees half a blob.
//
// Bounds, decided when an upload begins and held until it ends (so concurrent uploads cannot overrun them):
// - a blob is at most `max_bytes`;
// - all blobs, with the room promised to uploads in flight, take at most `max_total_bytes`;
// - the disk keeps `keep_free_bytes` free after every promised byte is written: that room is the database's.
// To make room, the least recently used blobs go first, but never one used within `keep_recent` (a run may still
// fetch it); without enough such room the upload is refused (kNoRoom). Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aggregator/blobs/disk_space.h"
#include "common/bundle.h"

namespace testfleet::aggregator {

struct BlobSettings {
  std::filesystem::path dir;
  uint64_t max_bytes = 256ull << 20;
  uint64_t max_total_bytes = 20ull << 30;
  uint64_t keep_free_bytes = 1ull << 30;
  std::chrono::seconds keep_recent{3600};
};

// Why a blob was not stored; the message says what to do.
struct BlobProblem {
  enum Kind { kTooLarge, kNoRoom, kWrongHash, kWriteFailed } kind;
  std::string message;
};

class BlobStore {
 public:
  class Upload;
  struct Admission {
    std::unique_ptr<Upload> upload;      // set when admitted
    std::optional<BlobProblem> problem;  // set when not
  };

  // Creates the folder and removes partial files a killed aggregator left. Throws std::runtime_error naming it.
  BlobStore(BlobSettings settings, DiskSpacePtr disk);
  ~BlobStore();
  BlobStore(const BlobStore&) = delete;
  BlobStore& operator=(const BlobStore&) = delete;

  const BlobSettings& settings() const { return settings_; }
  // Admits an upload of `declared` bytes (nullopt: not known in advance, so max_bytes are held for it), making
  // room as above. The Upload must end before the store does.
  Admission begin(const std::string& sha256, std::optional<uint64_t> declared);
  // The blob's file, marked as just used (so it goes last), or nullopt when there is none.
  std::optional<std::filesystem::path> use(const std::string& sha256);
  bool contains(const std::string& sha256) const;

 private:
  friend class Upload;
  std::optional<BlobProblem> makeRoom(uint64_t incoming);  // with mu_ held
  void release(const Upload* upload);

  const BlobSettings settings_;
  DiskSpacePtr disk_;
  std::mutex mu_;                       // guards uploads_ and the folder's blobs while room is made
  std::vector<const Upload*> uploads_;  // in flight, each holding room for its admitted bytes
  std::atomic<uint64_t> sequence_{0};   // names partial files
};

// One blob on its way in. Not thread-safe (one request's thread).
class BlobStore::Upload {
 public:
  ~Upload();  // an unfinished upload's partial file is removed; its room is given back either way
  Upload(const Upload&) = delete;
  Upload& operator=(const Upload&) = delete;

  // Appends bytes; false (see problem()) past the admitted size or when the disk refuses them.
  bool write(std::string_view bytes);
  // Checks the hash and makes the blob visible; false (see problem()) when it differs or cannot be stored.
  bool finish();
  uint64_t bytes() const { return written_; }
  const std::optional<BlobProblem>& problem() const { return problem_; }

 private:
  friend class BlobStore;
  Upload(BlobStore& store, std::string sha256, uint64_t admitted, std::filesystem::path partial, int fd);

  BlobStore& store_;
  const std::string sha256_;
  const uint64_t admitted_;
  const std::filesystem::path partial_;
  int fd_;
  Sha256 hash_;
  std::atomic<uint64_t> written_{0};  // read by the store (room still promised) under its mutex
  bool finished_ = false;
  std::optional<BlobProblem> problem_;
};

}  // namespace testfleet::aggregator
