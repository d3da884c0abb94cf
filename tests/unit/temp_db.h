// A SQLite file name in the temp folder for one test, removed (with its WAL files) before and after.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

namespace testfleet::testing {

struct TempDb {
  std::filesystem::path path;
  explicit TempDb(const std::string& name = "store")
      : path(std::filesystem::temp_directory_path() / ("tf-" + name + "-" + std::to_string(::getpid()) + ".db")) {
    clean();
  }
  ~TempDb() { clean(); }
  TempDb(const TempDb&) = delete;
  TempDb& operator=(const TempDb&) = delete;
  void clean() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  }
};

}  // namespace testfleet::testing
