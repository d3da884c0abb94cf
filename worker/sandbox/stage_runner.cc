// testfleet-stage-runner [WORK CONTROL [SOURCE]]: runs inside the sandbox. When SOURCE is given (in the sandbox:
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
#include <ftw.h>
#include <sys/stat.h>
#include <string>

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
  int setup = runStage("setup", setup_sh.c_str());
  if (setup > 0 && !(WIFEXITED(setup) && WEXITSTATUS(setup) == 0)) {
    runStage("teardown", teardown_sh.c_str());
    return asExitCode(setup);
  }
  int test = runStage("test", test_sh.c_str());
  runStage("teardown", teardown_sh.c_str());
  return asExitCode(test);
}
