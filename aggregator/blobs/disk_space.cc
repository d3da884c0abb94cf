#include "aggregator/blobs/disk_space.h"

#include <stdexcept>

namespace testfleet::aggregator {

uint64_t FilesystemDiskSpace::availableBytes(const std::filesystem::path& path) {
  std::error_code ec;
  const auto space = std::filesystem::space(path, ec);
  if (ec) throw std::runtime_error("cannot tell the free space of " + path.string() + ": " + ec.message());
  return space.available;
}

}  // namespace testfleet::aggregator
