// testfleet-stage-runner [WORK CONTROL]: runs inside the sandbox. Executes CONTROL/setup.sh, CONTROL/test.sh and
// CONTROL/teardown.sh (those that exist; CONTROL defaults to /tf) with /bin/sh in WORK (default /work), and writes one line per stage to fd 4:
//   "<stage> exit <code>" or "<stage> signal <number>"
// so the worker learns exactly how each stage ended. Setup failing skips the test; teardown always runs.
// Exit status: the test's exit code, or 128 + signal. No dependencies beyond libc, by design.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
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

int asExitCode(int status) {
  if (status < 0) return 0;
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string work = argc > 2 ? argv[1] : "/work";
  const std::string control = argc > 2 ? argv[2] : "/tf";
  const std::string setup_sh = control + "/setup.sh", test_sh = control + "/test.sh",
                    teardown_sh = control + "/teardown.sh";
  // fd 4 is the status pipe; keep it away from the stages so a test cannot write to it through inheritance.
  if (::fcntl(4, F_GETFD) >= 0) {
    g_status_fd = 4;
    ::fcntl(4, F_SETFD, FD_CLOEXEC);
  }
  ::fcntl(3, F_SETFD, FD_CLOEXEC);  // bubblewrap's own status pipe, if it leaked
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
