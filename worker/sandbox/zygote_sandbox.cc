#include "worker/sandbox/zygote_sandbox.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "worker/sandbox/memory_file.h"
#include "worker/sandbox/process.h"
#include "worker/sandbox/stage_runner_fds.h"
#include "worker/sandbox/stage_runner_outcome.h"
#include "worker/sandbox/zygote_fds.h"

namespace testfleet::worker {
namespace fs = std::filesystem;
namespace {

constexpr int kZygoteControlFd = 3, kZygoteScriptFd = 4;  // in the zygote's bubblewrap
constexpr auto kStartDeadline = std::chrono::seconds(30);

// A pipe whose read end holds `data` and then ends; the request is small, but may exceed a pipe's buffer, so it is
// written from a memfd instead.
OwnedFd requestFile(const std::string& data) {
  MemoryFile file("testfleet-zygote-request");
  bool ok = ::write(file.fd(), data.data(), data.size()) == static_cast<ssize_t>(data.size());
  return ok ? OwnedFd(file.openForChild()) : OwnedFd();
}

// The test command the job runner wrote, or nullopt when it is missing or too large.
std::optional<std::string> testCommand(const fs::path& control) {
  std::ifstream in(control / "test.sh", std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > (1 << 20)) return std::nullopt;
  return text.str();
}

bool sendFd(int socket, int fd) {
  char byte = 'j';
  iovec iov{&byte, 1};
  char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  return ::sendmsg(socket, &msg, MSG_NOSIGNAL) == 1;
}

// The zygote's bubblewrap: the cold sandbox's base, a read-only root and /dev, mount points for the job's folders,
// the shared cache when there is one, and python3 -I running the script.
std::vector<std::string> zygoteArgs(const BubblewrapSettings& bw) {
  std::vector<std::string> args = bubblewrapBaseArgs(bw);
  args.insert(args.end(), {"--tmpfs", "/tmp", "--dir", "/work", "--dir", "/tf-out", "--perms", "0555", "--ro-bind-data",
                           std::to_string(kZygoteScriptFd), "/tf-bin/zygote.py"});
  if (!bw.shared_cache.empty()) args.insert(args.end(), {"--ro-bind", bw.shared_cache.string(), "/cache"});
  args.insert(args.end(), {"--remount-ro", "/dev", "--remount-ro", "/", "--chdir", "/", "--clearenv", "--setenv",
                           "PATH", "/usr/bin:/bin", "--setenv", "LANG", "C.UTF-8", "--", "/usr/bin/python3", "-I",
                           "/tf-bin/zygote.py", std::to_string(kZygoteControlFd)});
  return args;
}

}  // namespace

bool ZygoteSandbox::takes(const SandboxSpec& spec) {
  std::error_code ec;
  return spec.framework == "pytest" && !spec.network && spec.environment.empty() && spec.artifact_bytes == 0 &&
         !fs::exists(spec.control / "setup.sh", ec) && !fs::exists(spec.control / "teardown.sh", ec) &&
         !fs::exists(spec.control / "artifacts.txt", ec);
}

ZygoteSandbox::ZygoteSandbox(BubblewrapSettings bubblewrap, ZygoteSettings settings, Sandbox& cold,
                             CgroupDriver* cgroups)
    : bubblewrap_(std::move(bubblewrap)), settings_(std::move(settings)), cold_(cold), cgroups_(cgroups) {
  if (bubblewrap_.seccomp) seccomp_ = std::make_unique<SeccompProgram>();
  if (::geteuid() == 0) uids_ = std::make_unique<SandboxUids>(bubblewrap_.sandbox_uid, bubblewrap_.sandbox_uids);
  problem_ = start();
}

ZygoteSandbox::~ZygoteSandbox() {
  control_ = OwnedFd();  // the zygote ends when its control socket closes; bubblewrap follows it
  if (zygote_ > 0) {
    ::kill(zygote_, SIGKILL);
    ::waitpid(zygote_, nullptr, 0);
  }
}

std::string ZygoteSandbox::start() {
  MemoryFile script = MemoryFile::copyOf(settings_.script);
  OwnedFd script_fd(script.openForChild());
  int pair[2];
  if (script_fd.get() < 0 || ::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return std::string("cannot make the zygote's control socket: ") + std::strerror(errno);
  }
  control_ = OwnedFd(pair[0]);
  OwnedFd theirs(pair[1]);
  const std::vector<std::string> args = zygoteArgs(bubblewrap_);
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  char path_env[] = "PATH=/usr/bin:/bin";
  char* envp[] = {path_env, nullptr};
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return std::string("cannot fork the zygote: ") + std::strerror(errno);
  if (pid == 0) {  // raw system calls only until exec
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (settings_.zygote_as && !takeCredentials(*settings_.zygote_as)) ::_exit(126);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    int control = ::fcntl(theirs.get(), F_DUPFD, 100), code = ::fcntl(script_fd.get(), F_DUPFD, 100);
    ::dup2(control, kZygoteControlFd);
    ::dup2(code, kZygoteScriptFd);
    ::close_range(kZygoteScriptFd + 1, ~0U, 0);
    ::execve(argv[0], argv.data(), envp);
    ::_exit(127);
  }
  zygote_ = pid;
  theirs = OwnedFd();
  // The zygote says "ready" once pytest is imported; until then a job would only wait in the socket.
  pollfd p{control_.get(), POLLIN, 0};
  char answer[16] = {};
  if (::poll(&p, 1, static_cast<int>(std::chrono::milliseconds(kStartDeadline).count())) != 1 ||
      ::recv(control_.get(), answer, sizeof answer - 1, 0) <= 0 || std::string(answer) != "ready") {
    return "the pytest zygote did not come up within " + std::to_string(kStartDeadline.count()) +
           " s (is python3-pytest installed in /usr? run the worker with --log-level debug and without --zygotes)";
  }
  return "";
}

SandboxOutcome ZygoteSandbox::run(const SandboxSpec& spec) {
  if (!problem_.empty() || !takes(spec)) return cold_.run(spec);
  return runForked(spec);
}

SandboxOutcome ZygoteSandbox::runForked(const SandboxSpec& spec) {
  using End = SandboxOutcome::End;
  auto failed = [](std::string why) {
    SandboxOutcome out;
    out.end = End::kSetupFailed;
    out.setup_error = std::move(why);
    return out;
  };
  std::optional<std::string> command = testCommand(spec.control);
  if (!command) return failed("cannot read the job's test command");
  std::optional<SandboxUids::Lease> lease;
  ProcessSpec ps;
  if (uids_) {
    lease.emplace(uids_->acquire());
    ps.run_as = Credentials{lease->uid(), lease->uid()};
  }
  JobCgroupPtr cgroup = cgroups_ ? cgroups_->create(spec.name, spec.limits) : nullptr;
  std::vector<OwnedFd> forwarded;
  forwarded.emplace_back(::open(spec.workspace.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (seccomp_) forwarded.emplace_back(seccomp_->openForChild());
  if (cgroup) {
    ps.join_files = cgroup->procsFiles();  // the client joins too: nothing of the job runs outside the group
    for (const auto& file : ps.join_files) forwarded.emplace_back(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
  }
  for (const auto& fd : forwarded) {
    if (fd.get() < 0) return failed(std::string("cannot open the job's folders or groups: ") + std::strerror(errno));
  }
  nlohmann::json request = {{"command", *command},
                            {"env", jobEnvironment(spec, !bubblewrap_.shared_cache.empty())},
                            {"timeout_ms", spec.timeout.count()},
                            {"tmp_bytes", spec.tmp_bytes},
                            {"workspace_bytes", spec.workspace_bytes},
                            {"out_bytes", spec.out_bytes},
                            {"report_bytes", spec.report_bytes},
                            {"max_file_bytes", spec.max_file_bytes},
                            {"seccomp", seccomp_ ? 1 : 0},
                            {"cgroups", cgroup ? ps.join_files.size() : 0}};
  OwnedFd request_fd = requestFile(request.dump());
  int pair[2];
  if (request_fd.get() < 0 || ::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return failed(std::string("cannot make the job's socket: ") + std::strerror(errno));
  }
  OwnedFd ours(pair[0]), theirs(pair[1]);
  {
    std::lock_guard lock(control_mu_);
    if (!sendFd(control_.get(), theirs.get())) return failed("the pytest zygote is gone; the worker needs a restart");
  }
  theirs = OwnedFd();
  ps.inherit_fds = {{zygote_fds::kRequest, request_fd.get()}, {zygote_fds::kJobSocket, ours.get()}};
  for (size_t i = 0; i < forwarded.size(); ++i) {
    ps.inherit_fds.push_back({zygote_fds::kFirstForwarded + static_cast<int>(i), forwarded[i].get()});
  }
  ps.argv = {settings_.client.string(), std::to_string(forwarded.size())};
  ps.env = {"PATH=/usr/bin:/bin"};
  ps.max_file_bytes = spec.max_file_bytes;
  ps.output_kill_bytes = spec.output_kill_bytes;
  ps.status_pipes = stageRunnerPipes(64 << 10, spec.report_bytes + spec.artifact_bytes + (8 << 20));
  ps.timeout = spec.timeout.count() > 0 ? spec.timeout + kWorkerDeadlineGrace : spec.timeout;
  ps.output_limit = spec.output_limit;
  ps.cancel = spec.cancel;
  ProcessOutcome po = runProcess(ps);
  std::string unset_up;
  if (po.status_text.empty() || po.status_text[0].find("child-pid") == std::string::npos) {
    unset_up = "the zygote could not set up the sandbox: " + po.stderr_text;
  }
  SandboxOutcome out = stageRunnerOutcome(std::move(po), std::move(unset_up));
  if (cgroup) recordCgroupUsage(*cgroup, out);
  return out;
}

}  // namespace testfleet::worker
