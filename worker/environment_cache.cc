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

// Takes write permission (and set-uid/gid) away from everything under dir (and dir), and gives it to the worker when
// it is root, so the uid that wrote it cannot change it for later jobs. Symlinks are left as they are. Returns why
// a part could not be settled (the tree is then not used), or "".
std::string freeze(const fs::path& dir) {
  const bool root = ::geteuid() == 0;
  std::string problem;
  auto settle = [&](const fs::path& p) {
    std::error_code ec;
    if (root && ::lchown(p.c_str(), 0, 0) != 0 && problem.empty()) problem = p.string() + ": " + std::strerror(errno);
    if (fs::is_symlink(p, ec)) return;
    fs::permissions(p,
                    fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write | fs::perms::set_uid |
                        fs::perms::set_gid,
                    fs::perm_options::remove, ec);
    if (ec && problem.empty()) problem = p.string() + ": " + ec.message();
  };
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    settle(it->path());
  }
  if (ec && problem.empty()) problem = "walking " + dir.string() + ": " + ec.message();
  settle(dir);
  return problem;
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
  if (std::string why = freeze(temp); !why.empty()) {
    fs::remove_all(temp, ec);
    return {{}, false, "cannot make the prepared environment read-only (" + why + ")"};
  }
  fs::rename(temp, dir, ec);
  if (ec) {
    fs::remove_all(temp, ec);
    return {{}, false, "cannot move the prepared environment to " + dir.string() + ": " + ec.message()};
  }
  return {dir, true, ""};
}

}  // namespace testfleet::worker
