// testfleet-stage-runner WORK CONTROL SOURCE ARTIFACT_BYTES REPORT_BYTES TIMEOUT_MS MODE
//
// Runs inside the sandbox (MODE "sandboxed") or, for the explicit unsandboxed worker, on the host (MODE "host").
//  1. When SOURCE is not empty (in the sandbox: /tf-src, the job's files, read-only) it copies it into WORK (a
//     size-limited tmpfs) and reports "workspace exit 0|1".
//  2. Executes CONTROL/setup.sh, CONTROL/test.sh and CONTROL/teardown.sh (those that exist) with /bin/sh in WORK and
//     writes one line per stage to fd 4: "<stage> exit <code>", "<stage> signal <number>" or "<stage> timeout <ms>".
//     Setup failing skips the test; teardown always runs unless the job ran out of time.
//  3. Right after the test stage it takes the framework's report ($TF_OUT/report) into memory, so a process the
//     test left behind cannot rewrite it later; in the sandbox every process of the job other than this one is
//     killed after teardown.
//  4. Streams the report and the workspace files matching CONTROL/artifacts.txt (at most ARTIFACT_BYTES in all) to
//     fd 5 in the format worker/sandbox/collected_output.h reads, ending with an "end" record.
//
// In the sandbox it also enforces TIMEOUT_MS (0 = none) itself, so a job that runs out of time still reports what
// its framework wrote; the worker keeps a later deadline of its own. It makes itself non-dumpable, so the test (same
// uid) cannot open its status pipes through /proc. Exit status: the test's exit code, or 128 + signal.
// The fd numbers are stage_runner_fds.h's, which the sandboxes share. No dependencies beyond libc, by design.
#include <fcntl.h>
#include <fnmatch.h>
#include <ftw.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "worker/sandbox/stage_runner_fds.h"

namespace {

namespace fds = testfleet::stage_runner_fds;
constexpr int kStatusFd = fds::kStageStatus;
constexpr int kCollectFd = fds::kCollect;
int g_status_fd = -1;
int g_collect_fd = -1;
bool g_sandboxed = false;
long long g_deadline_ms = 0;  // CLOCK_MONOTONIC milliseconds; 0 = none

long long nowMs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

void report(const char* stage, const char* how, long long value) {
  char line[128];
  int n = std::snprintf(line, sizeof line, "%s %s %lld\n", stage, how, value);
  if (g_status_fd >= 0 && n > 0) (void)!::write(g_status_fd, line, static_cast<size_t>(n));
}

bool writeAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Reads at most `limit` bytes of a regular file (never a FIFO or device, links not followed). False when it is
// missing or not a regular file; `size` is the file's whole size.
bool readRegular(const std::string& path, size_t limit, std::string& text, long long& size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return false;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return false;
  }
  size = st.st_size;
  char buf[65536];
  while (text.size() < limit) {
    ssize_t n = ::read(fd, buf, std::min(sizeof buf, limit - text.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return true;
}

// One record of the collect stream: "<kind> <path bytes> <content bytes> <file size> <truncated>\n" + path + content.
void collect(const char* kind, const std::string& path, const std::string& content, long long size, bool truncated) {
  if (g_collect_fd < 0) return;
  char head[160];
  int n = std::snprintf(head, sizeof head, "%s %zu %zu %lld %d\n", kind, path.size(), content.size(), size,
                        truncated ? 1 : 0);
  if (n > 0) writeAll(g_collect_fd, head, static_cast<size_t>(n));
  writeAll(g_collect_fd, path.data(), path.size());
  writeAll(g_collect_fd, content.data(), content.size());
}

// Kills every process of the job but this one (in the sandbox's pid namespace: pid 1 is bubblewrap's init, which
// the kernel protects) and reaps this process's own children.
void killLeftovers() {
  if (!g_sandboxed) return;
  ::kill(-1, SIGKILL);
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

// Waits for `pid` until the deadline; at the deadline kills the job's processes. Returns the wait status, and
// whether the deadline ended it.
int waitWithDeadline(pid_t pid, bool& timed_out) {
  int status = 0;
  if (g_deadline_ms == 0) {
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
  }
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  for (;;) {
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    long long left = g_deadline_ms - nowMs();
    if (left <= 0) break;
    timespec wait{left / 1000, (left % 1000) * 1000000};
    ::sigtimedwait(&chld, nullptr, &wait);  // SIGCHLD is blocked: it wakes us, or the time runs out
  }
  timed_out = true;
  killLeftovers();
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

// Reads a stage script (at most 1 MiB); false when it does not exist.
bool readScript(const std::string& path, std::string& text) {
  long long size = 0;
  return readRegular(path, 1 << 20, text, size);
}

// Returns the wait status of the stage, or -1 when its script does not exist. The script runs as `sh -c TEXT`, so
// the shell executes a lone command in place and a test killed by a signal is seen as killed (not as 128 + n).
int runStage(const char* stage, const std::string& script, bool& timed_out) {
  std::string text;
  if (!readScript(script, text)) return -1;
  pid_t pid = ::fork();
  if (pid < 0) {
    report(stage, "exit", 126);
    return 126 << 8;
  }
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // Setup and teardown stop at their first failing command; the test command runs as written.
    const bool strict = std::strcmp(stage, "test") != 0;
    const char* strict_argv[] = {"/bin/sh", "-e", "-c", text.c_str(), stage, nullptr};
    const char* plain_argv[] = {"/bin/sh", "-c", text.c_str(), stage, nullptr};
    const char** argv = strict ? strict_argv : plain_argv;
    ::execv("/bin/sh", const_cast<char**>(argv));
    ::_exit(127);
  }
  const long long started = nowMs();
  int status = waitWithDeadline(pid, timed_out);
  if (timed_out) {
    report(stage, "timeout", nowMs() - started);
  } else if (WIFSIGNALED(status)) {
    report(stage, "signal", WTERMSIG(status));
  } else {
    report(stage, "exit", WEXITSTATUS(status));
  }
  return status;
}

// Copies the read-only source tree into the workspace; files keep their executable bit, symbolic links are made
// again with the same target (the worker unpacked only links that stay inside the tree), special files are not
// copied (the worker never makes them). Returns false and says why on the first failure.
std::string g_copy_from, g_copy_to;
int copyOne(const char* path, const struct stat* st, int type, struct FTW*) {
  std::string rel = std::string(path).substr(g_copy_from.size());
  if (rel.empty()) return 0;
  std::string dest = g_copy_to + rel;
  if (type == FTW_D) return ::mkdir(dest.c_str(), 0755) == 0 || errno == EEXIST ? 0 : -1;
  if (type == FTW_SL) {
    char target[4097];
    const ssize_t n = ::readlink(path, target, sizeof target - 1);
    if (n >= 0) target[n] = '\0';
    if (n < 0 || ::symlink(target, dest.c_str()) != 0) {
      std::fprintf(stderr, "testfleet: cannot copy the link %s into the workspace: %s\n", rel.c_str(),
                   std::strerror(errno));
      return -1;
    }
    return 0;
  }
  if (type != FTW_F) return 0;
  int in = ::open(path, O_RDONLY | O_CLOEXEC);
  int out = ::open(dest.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (st->st_mode & 0100) ? 0755 : 0644);
  bool ok = in >= 0 && out >= 0;
  char buf[65536];
  ssize_t n = 0;
  while (ok && (n = ::read(in, buf, sizeof buf)) > 0) ok = ::write(out, buf, static_cast<size_t>(n)) == n;
  if (in >= 0) ::close(in);
  if (out >= 0 && ::close(out) != 0) ok = false;
  if (!ok) {
    std::fprintf(stderr, "testfleet: cannot copy %s into the workspace: %s\n", rel.c_str(), std::strerror(errno));
    return -1;
  }
  return 0;
}

bool copyWorkspace(const std::string& from, const std::string& to) {
  g_copy_from = from;
  g_copy_to = to;
  return ::nftw(from.c_str(), copyOne, 32, FTW_PHYS) == 0;
}

// Workspace files matching the patterns in CONTROL/artifacts.txt (one per line), at most 1000.
std::vector<std::string> g_patterns;
std::vector<std::pair<long long, std::string>> g_matches;  // (size, relative path)
int matchOne(const char* path, const struct stat* st, int type, struct FTW*) {
  if (type != FTW_F || g_matches.size() >= 1000) return 0;
  std::string rel = std::string(path).substr(g_copy_from.size() + 1);
  for (const auto& p : g_patterns) {
    if (::fnmatch(p.c_str(), rel.c_str(), 0) == 0) {
      g_matches.push_back({static_cast<long long>(st->st_size), rel});
      break;
    }
  }
  return 0;
}

// Sends matching files smallest first until `budget` bytes are used: the file that does not fit is cut at the
// budget, and the ones after it are named in "cut" records.
void collectArtifacts(const std::string& work, const std::string& control, long long budget) {
  std::string text;
  if (!readScript(control + "/artifacts.txt", text)) return;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) g_patterns.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  g_copy_from = work;
  ::nftw(work.c_str(), matchOne, 32, FTW_PHYS);
  std::sort(g_matches.begin(), g_matches.end());
  for (const auto& [size, rel] : g_matches) {
    if (budget <= 0) {
      collect("cut", rel, "", size, true);
      continue;
    }
    std::string content;
    long long whole = 0;
    if (!readRegular(work + "/" + rel, static_cast<size_t>(budget), content, whole)) continue;
    budget -= static_cast<long long>(content.size());
    collect("artifact", rel, content, whole, static_cast<long long>(content.size()) < whole);
  }
  report("artifacts", "exit", 0);
}

int asExitCode(int status) {
  if (status < 0) return 0;
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

// Keeps the two pipes to the worker away from the stages (close-on-exec) and closes every other inherited fd.
void guardChannels() {
  if (::fcntl(kStatusFd, F_GETFD) >= 0) {
    g_status_fd = kStatusFd;
    ::fcntl(kStatusFd, F_SETFD, FD_CLOEXEC);
  }
  if (::fcntl(kCollectFd, F_GETFD) >= 0) {
    g_collect_fd = kCollectFd;
    ::fcntl(kCollectFd, F_SETFD, FD_CLOEXEC);
  }
  ::close(fds::kIsolationStatus);
  ::close_range(fds::kFirstUnused, ~0U, 0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 8) {
    std::fprintf(stderr,
                 "usage: testfleet-stage-runner WORK CONTROL SOURCE ARTIFACT_BYTES REPORT_BYTES TIMEOUT_MS "
                 "sandboxed|host\n");
    return 125;
  }
  ::prctl(PR_SET_DUMPABLE, 0);
  guardChannels();
  const std::string work = argv[1], control = argv[2], source = argv[3];
  const long long artifact_budget = std::atoll(argv[4]);
  const long long report_budget = std::atoll(argv[5]);
  const long long timeout_ms = std::atoll(argv[6]);
  g_sandboxed = std::strcmp(argv[7], "sandboxed") == 0;
  if (g_sandboxed && timeout_ms > 0) g_deadline_ms = nowMs() + timeout_ms;
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &chld, nullptr);

  if (!source.empty()) {
    bool copied = copyWorkspace(source, work);
    report("workspace", "exit", copied ? 0 : 1);
    if (!copied) return 125;
  }
  if (::chdir(work.c_str()) != 0) {
    std::perror("testfleet-stage-runner: chdir");
    return 125;
  }
  const char* out_env = std::getenv("TF_OUT");
  const std::string report_path = std::string(out_env ? out_env : "/tf-out") + "/report";
  bool timed_out = false;
  int result = runStage("setup", control + "/setup.sh", timed_out);
  const bool setup_ok = result <= 0 || (WIFEXITED(result) && WEXITSTATUS(result) == 0);
  if (setup_ok && !timed_out) result = runStage("test", control + "/test.sh", timed_out);
  std::string report_text;
  long long report_size = 0;
  const bool has_report =
      readRegular(report_path, static_cast<size_t>(std::max(0LL, report_budget)), report_text, report_size);
  if (!timed_out) runStage("teardown", control + "/teardown.sh", timed_out);
  killLeftovers();
  if (has_report)
    collect("report", "report", report_text, report_size, static_cast<long long>(report_text.size()) < report_size);
  collectArtifacts(work, control, artifact_budget);
  collect("end", "", "", 0, false);
  return asExitCode(result);
}
