#include "worker/sandbox/user_network.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace testfleet::worker {
namespace {

// fd numbers slirp4netns finds its namespaces and pipes at.
constexpr int kUsernsFd = 3, kNetnsFd = 4, kReadyFd = 5, kExitFd = 6;

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  int release() {
    int f = fd;
    fd = -1;
    return f;
  }
};

// The tap device slirp4netns needs. A node of the host's /dev/net/tun is often root-only (mode 0600); as root, the
// child makes its own mount namespace with a private node the job's uid may open, so the host is not changed.
[[noreturn]] void execSlirp(const std::filesystem::path& slirp, const std::optional<Credentials>& run_as,
                            const std::vector<std::string>& join_files, const int (&fds)[4], int err, pid_t parent) {
  auto die = [err](const char* msg) {
    (void)!::write(err, msg, std::strlen(msg));
    ::_exit(126);
  };
  ::setpgid(0, 0);
  for (const auto& file : join_files) {
    int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, "0", 1) != 1) die("cannot join the job's cgroup\n");
    ::close(fd);
  }
  if (::geteuid() == 0) {
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("tmpfs", "/dev/net", "tmpfs", MS_NOSUID | MS_NOEXEC, "size=4k,mode=0755") != 0 ||
        ::mknod("/dev/net/tun", S_IFCHR | 0600, makedev(10, 200)) != 0) {
      die("cannot make a private /dev/net/tun\n");
    }
    if (run_as && ::chown("/dev/net/tun", run_as->uid, run_as->gid) != 0) die("cannot hand /dev/net/tun over\n");
  }
  if (run_as) {
    if (!takeCredentials(*run_as)) die("cannot switch to the sandbox's uid\n");
  }
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);
  int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  ::dup2(devnull, 0);
  ::dup2(devnull, 1);
  ::dup2(err, 2);
  int moved[4];
  for (int i = 0; i < 4; ++i) moved[i] = ::fcntl(fds[i], F_DUPFD_CLOEXEC, 64);
  for (int i = 0; i < 4; ++i) ::dup2(moved[i], kUsernsFd + i);
  ::close_range(kExitFd + 1, ~0U, 0);
  const std::string userns = "--userns-path=/proc/self/fd/" + std::to_string(kUsernsFd);
  const std::string netns = "/proc/self/fd/" + std::to_string(kNetnsFd);
  const std::string ready = "--ready-fd=" + std::to_string(kReadyFd);
  const std::string exit_fd = "--exit-fd=" + std::to_string(kExitFd);
  const char* argv[] = {slirp.c_str(),
                        "--configure",
                        "--mtu=65520",
                        "--disable-host-loopback",
                        "--enable-seccomp",
                        userns.c_str(),
                        "--netns-type=path",
                        ready.c_str(),
                        exit_fd.c_str(),
                        netns.c_str(),
                        "tap0",
                        nullptr};
  const char* envp[] = {"PATH=/usr/bin:/bin", nullptr};
  ::execve(argv[0], const_cast<char**>(argv), const_cast<char**>(envp));
  const char msg[] = "cannot execute slirp4netns\n";
  (void)!::write(err, msg, sizeof msg - 1);
  ::_exit(127);
}

std::string readAvailable(int fd) {
  std::string text;
  char buf[4096];
  ssize_t n = 0;
  while (text.size() < 4096 && (n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  return text;
}

}  // namespace

std::unique_ptr<UserNetwork> UserNetwork::attach(const std::filesystem::path& slirp4netns, pid_t sandbox_pid,
                                                 const std::optional<Credentials>& run_as,
                                                 const std::vector<std::string>& join_files, std::string& error) {
  const std::string ns = "/proc/" + std::to_string(sandbox_pid) + "/ns/";
  Fd netns(::open((ns + "net").c_str(), O_RDONLY | O_CLOEXEC));
  // The user namespace that owns the network namespace (bubblewrap nests a second one for the job's uid).
  Fd userns(netns.fd >= 0 ? ::ioctl(netns.fd, NS_GET_USERNS) : -1);
  if (netns.fd < 0 || userns.fd < 0) {
    error = "cannot open the sandbox's namespaces: " + std::string(std::strerror(errno));
    return nullptr;
  }
  int ready[2], quit[2], err[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) {
    error = std::string("pipe: ") + std::strerror(errno);
    return nullptr;
  }
  Fd ready_r(ready[0]), ready_w(ready[1]);
  if (::pipe2(quit, O_CLOEXEC) != 0) {
    error = std::string("pipe: ") + std::strerror(errno);
    return nullptr;
  }
  Fd quit_r(quit[0]), quit_w(quit[1]);
  if (::pipe2(err, O_CLOEXEC | O_NONBLOCK) != 0) {
    error = std::string("pipe: ") + std::strerror(errno);
    return nullptr;
  }
  Fd err_r(err[0]), err_w(err[1]);
  const int child_fds[4] = {userns.fd, netns.fd, ready_w.fd, quit_r.fd};
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    error = std::string("fork: ") + std::strerror(errno);
    return nullptr;
  }
  if (pid == 0) execSlirp(slirp4netns, run_as, join_files, child_fds, err_w.fd, parent);
  ::close(ready_w.release());  // so the read below ends when slirp4netns does
  ::close(err_w.release());
  std::unique_ptr<UserNetwork> net(new UserNetwork(pid, quit_w.release()));
  pollfd p{ready_r.fd, POLLIN, 0};
  int got = ::poll(&p, 1, 10000);
  char byte = 0;
  if (got == 1 && ::read(ready_r.fd, &byte, 1) == 1) return net;
  error = got == 0 ? "slirp4netns did not bring the interface up within 10 s" : "slirp4netns failed";
  std::string why = readAvailable(err_r.fd);
  if (!why.empty()) error += ": " + why.substr(0, why.find_last_not_of('\n') + 1);
  return nullptr;
}

std::string UserNetwork::probe(const std::filesystem::path& slirp4netns) {
  if (::access(slirp4netns.c_str(), X_OK) != 0) {
    return "slirp4netns is not installed at " + slirp4netns.string() + " (apt-get install slirp4netns)";
  }
  if (::geteuid() != 0 && ::access("/dev/net/tun", R_OK | W_OK) != 0) {
    return "/dev/net/tun cannot be opened by this user (run the worker as root, or give the device mode 0666)";
  }
  if (::geteuid() == 0 && ::access("/dev/net", F_OK) != 0) return "there is no /dev/net on this machine";
  return "";
}

UserNetwork::~UserNetwork() {
  ::close(exit_fd_);
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace testfleet::worker
