#include "worker/sandbox/sandbox_uids.h"

#include "worker/sandbox/credentials.h"

#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace testfleet::worker {
namespace {

int waitChild(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

}  // namespace

SandboxUids::SandboxUids(uid_t first, size_t count) {
  for (size_t i = count; i > 0; --i) free_.push_back(static_cast<uid_t>(first + i - 1));
}

SandboxUids::Lease SandboxUids::acquire() {
  std::unique_lock lock(mu_);
  freed_.wait(lock, [&] { return !free_.empty(); });
  uid_t uid = free_.back();
  free_.pop_back();
  return Lease(this, uid);
}

void SandboxUids::release(uid_t uid) {
  {
    std::lock_guard lock(mu_);
    free_.push_back(uid);
  }
  freed_.notify_one();
}

SandboxUids::Lease::~Lease() {
  if (pool_) pool_->release(uid_);
}

std::string SandboxUids::probe(uid_t first, size_t count) {
  if (::geteuid() != 0) return "the worker does not run as root";
  if (count == 0 || first == 0 || first > static_cast<uid_t>(-2) - count) {
    return "the sandbox uid range " + std::to_string(first) + "+" + std::to_string(count) + " is not valid";
  }
  for (uid_t uid : {first, static_cast<uid_t>(first + count - 1)}) {
    if (const passwd* pw = ::getpwuid(uid)) {
      return "uid " + std::to_string(uid) + " belongs to the account '" + pw->pw_name +
             "'; choose a --sandbox-uid range that no account or file uses";
    }
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(takeCredentials({uid, uid}) ? 0 : 1);
    if (pid < 0) return std::string("fork: ") + std::strerror(errno);
    int status = waitChild(pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return "cannot switch to uid " + std::to_string(uid) +
             " (in a container, the range must be mapped in its user namespace; choose another --sandbox-uid)";
    }
  }
  return "";
}

std::string SandboxUids::blockedOnTheWay(uid_t uid, const std::filesystem::path& path) {
  std::error_code ec;
  const std::filesystem::path full = std::filesystem::absolute(path, ec);
  std::filesystem::path at;
  for (const auto& part : full) {
    at /= part;
    struct stat st {};
    if (::stat(at.c_str(), &st) != 0) return at.string() + " (" + std::strerror(errno) + ")";
    const bool passable = st.st_uid == uid   ? (st.st_mode & S_IXUSR)
                          : st.st_gid == uid ? (st.st_mode & S_IXGRP)
                                             : (st.st_mode & S_IXOTH);
    if (S_ISDIR(st.st_mode) && !passable) return at.string();
  }
  return "";
}

}  // namespace testfleet::worker
