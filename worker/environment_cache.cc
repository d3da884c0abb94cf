#include "worker/environment_cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstring>
#include <system_error>

namespace testfleet::worker {
namespace fs = std::filesystem;

namespace {

// An exclusive flock on a file, held while it lives.
class FileLock {
 public:
  explicit FileLock(const fs::path& path) : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    while (fd_ >= 0 && ::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the lock
  }
  bool held() const { return fd_ >= 0; }

 private:
  int fd_;
};

// Takes write permission away from everything under dir (and dir), and gives it to the worker when it is root,
// so the uid that wrote it cannot change it for later jobs. Symlinks are left as they are.
void freeze(const fs::path& dir) {
  const bool root = ::geteuid() == 0;
  std::error_code ec;
  auto settle = [&](const fs::path& p) {
    if (root) (void)::lchown(p.c_str(), 0, 0);
    if (!fs::is_symlink(p, ec)) {
      fs::permissions(p, fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write,
                      fs::perm_options::remove, ec);
    }
  };
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    settle(it->path());
  }
  settle(dir);
}

}  // namespace

EnvironmentCache::EnvironmentCache(fs::path root) : root_(std::move(root)) {}

EnvironmentEntry EnvironmentCache::get(const std::string& key,
                                       const std::function<std::string(const fs::path&)>& prepare) {
  const fs::path dir = root_ / key;
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return {dir, false, ""};
  fs::create_directories(root_, ec);
  if (ec) return {{}, false, "cannot create " + root_.string() + ": " + ec.message()};
  FileLock lock(root_ / (key + ".lock"));
  if (!lock.held()) return {{}, false, "cannot lock " + (root_ / key).string() + ": " + std::strerror(errno)};
  if (fs::is_directory(dir, ec)) return {dir, false, ""};  // another slot or worker made it while we waited
  const fs::path temp = root_ / (key + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(sequence_++));
  fs::remove_all(temp, ec);
  fs::create_directory(temp, ec);
  if (!ec) fs::permissions(temp, fs::perms::all, ec);
  if (ec) return {{}, false, "cannot create " + temp.string() + ": " + ec.message()};
  if (std::string why = prepare(temp); !why.empty()) {
    fs::remove_all(temp, ec);
    return {{}, false, why};
  }
  freeze(temp);
  fs::rename(temp, dir, ec);
  if (ec) {
    fs::remove_all(temp, ec);
    return {{}, false, "cannot move the prepared environment to " + dir.string() + ": " + ec.message()};
  }
  return {dir, true, ""};
}

}  // namespace testfleet::worker
