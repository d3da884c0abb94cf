// How much room a file system has left. The blob store asks before it takes any, so that the database beside it
// keeps room; an interface so that tests can pretend a disk is nearly full.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

namespace testfleet::aggregator {

class DiskSpace {
 public:
  virtual ~DiskSpace() = default;
  // Bytes an unprivileged writer can still use on the file system that holds `path`. Throws std::runtime_error.
  virtual uint64_t availableBytes(const std::filesystem::path& path) = 0;
};

using DiskSpacePtr = std::unique_ptr<DiskSpace>;

// What statvfs says.
class FilesystemDiskSpace final : public DiskSpace {
 public:
  uint64_t availableBytes(const std::filesystem::path& path) override;
};

}  // namespace testfleet::aggregator
