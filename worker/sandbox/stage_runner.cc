// testfleet-stage-runner [WORK CONTROL [SOURCE [ARTIFACT_BYTES]]]: runs inside the sandbox. At the end it copies
// workspace files matching CONTROL/artifacts.txt into $TF_OUT/artifacts, at most ARTIFACT_BYTES in all. When SOURCE is given (in the sandbox:
// /tf-src, the job's files, read-only), it first copies it into WORK (a size-limited tmpfs) and reports
// "workspace exit 0|1". Executes CONTROL/setup.sh, CONTROL/test.sh and
// CONTROL/teardown.sh (those that exist; CONTROL defaults to /tf) with /bin/sh in WORK (default /work), and writes one line per stage to fd 4:
//   "<stage> exit <code>" or "<stage> signal <number>"
// so the worker learns exactly how each stage ended. Setup failing skips the test; teardown always runs.
// Exit status: the test's exit code, or 128 + signal. No dependencies beyond libc, by design.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cerrno>
#include <cstring>
#include <fnmatch.h>
#include <ftw.h>
#include <sys/stat.h>
#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

int g_status_fd = -1;

void report(const char* stage, const char* how, int value) {
  char line[128];
  int n = std::snprintf(line, sizeof line, "%s %s %d\n", stage, how, value);
  if (g_status_fd >= 0 && n > 0) (void)!::write(g_status_fd, line, static_cast<size_t>(n));
}

// Reads a stage script (at most 1 MiB); false when it does not exist.
bool readScript(const char* path, std::string& text) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[65536];
  ssize_t n = 0;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 && text.size() < (1u << 20)) text.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return true;
}

// Returns the wait status of the stage, or -1 when its script does not exist. The script runs as `sh -c TEXT`, so
// the shell executes a lone command in place and a test killed by a signal is seen as killed (not as 128 + n).
int runStage(const char* stage, const char* script) {
  std::string text;
  if (!readScript(script, text)) return -1;
  pid_t pid = ::fork();
  if (pid < 0) {
    report(stage, "exit", 126);
    return 126 << 8;
  }
  if (pid == 0) {
    // Setup and teardown stop at their first failing command; the test command runs as written.
    const bool strict = std::strcmp(stage, "test") != 0;
    const char* strict_argv[] = {"/bin/sh", "-e", "-c", text.c_str(), stage, nullptr};
    const char* plain_argv[] = {"/bin/sh", "-c", text.c_str(), stage, nullptr};
    const char** argv = strict ? strict_argv : plain_argv;
    ::execv("/bin/sh", const_cast<char**>(argv));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  if (WIFSIGNALED(status)) {
    report(stage, "signal", WTERMSIG(status));
  } else {
    report(stage, "exit", WEXITSTATUS(status));
  }
  return status;
}

// Copies the read-only source tree into the workspace; files keep their executable bit. Symbolic links and
// special files are not copied (the worker never makes them). Returns false and says why on the first failure.
std::string g_copy_from, g_copy_to;
int copyOne(const char* path, const struct stat* st, int type, struct FTW*) {
  std::string rel = std::string(path).substr(g_copy_from.size());
  if (rel.empty()) return 0;
  std::string dest = g_copy_to + rel;
  if (type == FTW_D) return ::mkdir(dest.c_str(), 0755) == 0 || errno == EEXIST ? 0 : -1;
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

// Collects workspace files matching the patterns in CONTROL/artifacts.txt (one per line) into OUT/artifacts with
// their relative paths, smallest first, until `budget` bytes are used: the file that does not fit is cut at the
// budget, and the ones after it are left out. Cut and left-out paths are listed in OUT/artifacts.truncated.
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

// Copies at most `limit` bytes of one file; returns how many it copied.
long long copyPrefix(const std::string& from, const std::string& to, long long limit) {
  int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  long long copied = 0;
  char buf[65536];
  ssize_t n = 0;
  while (in >= 0 && out >= 0 && copied < limit && (n = ::read(in, buf, sizeof buf)) > 0) {
    ssize_t take = static_cast<ssize_t>(std::min<long long>(n, limit - copied));
    if (::write(out, buf, static_cast<size_t>(take)) != take) break;
    copied += take;
  }
  if (in >= 0) ::close(in);
  if (out >= 0) ::close(out);
  return copied;
}

void collectArtifacts(const std::string& work, const std::string& control, const std::string& out_dir,
                      long long budget) {
  std::string text;
  if (!readScript((control + "/artifacts.txt").c_str(), text)) return;
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
  const std::string dir = out_dir + "/artifacts";
  ::mkdir(dir.c_str(), 0755);
  std::string cut;
  for (const auto& [size, rel] : g_matches) {
    if (budget <= 0) {
      cut += rel + "\n";
      continue;
    }
    std::string dest = dir + "/" + rel;
    for (size_t slash = dest.find('/', dir.size() + 1); slash != std::string::npos; slash = dest.find('/', slash + 1)) {
      ::mkdir(dest.substr(0, slash).c_str(), 0755);
    }
    long long copied = copyPrefix(work + "/" + rel, dest, budget);
    budget -= copied;
    if (copied < size) cut += rel + "\n";
  }
  if (!cut.empty()) {
    int fd = ::open((out_dir + "/artifacts.truncated").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
      (void)!::write(fd, cut.data(), cut.size());
      ::close(fd);
    }
  }
  report("artifacts", "exit", 0);
}

int asExitCode(int status) {
  if (status < 0) return 0;
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string work = argc > 2 ? argv[1] : "/work";
  const std::string control = argc > 2 ? argv[2] : "/tf";
  const std::string source = argc > 3 ? argv[3] : "";
  const std::string setup_sh = control + "/setup.sh", test_sh = control + "/test.sh",
                    teardown_sh = control + "/teardown.sh";
  // fd 4 is the status pipe; keep it away from the stages so a test cannot write to it through inheritance.
  if (::fcntl(4, F_GETFD) >= 0) {
    g_status_fd = 4;
    ::fcntl(4, F_SETFD, FD_CLOEXEC);
  }
  ::fcntl(3, F_SETFD, FD_CLOEXEC);  // bubblewrap's own status pipe, if it leaked
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
  const std::string out_dir = out_env ? out_env : "/tf-out";
  const long long artifact_budget = argc > 4 ? std::atoll(argv[4]) : 0;
  int setup = runStage("setup", setup_sh.c_str());
  if (setup > 0 && !(WIFEXITED(setup) && WEXITSTATUS(setup) == 0)) {
    runStage("teardown", teardown_sh.c_str());
    collectArtifacts(work, control, out_dir, artifact_budget);
    return asExitCode(setup);
  }
  int test = runStage("test", test_sh.c_str());
  runStage("teardown", teardown_sh.c_str());
  collectArtifacts(work, control, out_dir, artifact_budget);
  return asExitCode(test);
}
