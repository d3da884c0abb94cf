// Spawning and supervising one process tree on the host: pipes for output, a deadline, cancellation,
// and a kill of the whole process group at the end. Only worker/sandbox uses it.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "worker/sandbox/credentials.h"

namespace testfleet::worker {

// Keeps the first quarter and the last three quarters of a stream of at most `limit` bytes, counting what it drops.
class BoundedOutput {
 public:
  explicit BoundedOutput(size_t limit) : limit_(limit) {}
  void append(const char* data, size_t n);
  std::string text() const;
  size_t total() const { return total_; }

 private:
  size_t limit_;
  size_t total_ = 0;
  std::string head_;
  std::string tail_;  // ring of at most limit_ - limit_/4 bytes, kept in order by trimming
};

// A pipe from the child to the supervisor, at a fixed fd number in the child. What arrives is kept up to `limit`
// bytes (a prefix); the rest is read and dropped, and the outcome says it overflowed.
struct StatusPipe {
  int fd = -1;
  size_t limit = 64 << 10;
};

// Holding the child at a gate: the child finds the read end of a pipe at `fd` and waits for one byte before it
// proceeds (bubblewrap's --block-fd). `decide` is called with what status pipe 0 delivered so far, each time it
// grows, until it answers kOpen (the byte is written) or kRefuse (the process group is killed, `why` is kept).
struct ProcessGate {
  enum class Answer { kWait, kOpen, kRefuse };
  int fd = -1;
  std::function<Answer(const std::string& status0, std::string& why)> decide;
};

struct ProcessSpec {
  std::vector<std::string> argv;
  std::vector<std::string> env;          // "K=V"; exactly this environment
  std::vector<StatusPipe> status_pipes;  // read into status_text, in this order (at most 4)
  std::chrono::milliseconds timeout{0};
  size_t output_limit = 1 << 20;
  // Output beyond this many bytes (both streams) kills the process: a flood, not a test log. 0 = never.
  size_t output_kill_bytes = 0;
  const std::atomic<bool>* cancel = nullptr;
  std::vector<std::string> join_files;           // the child writes its pid here before exec (cgroup.procs)
  std::vector<std::pair<int, int>> inherit_fds;  // {fd in the child, fd in the parent} (e.g. a seccomp program)
  uint64_t max_file_bytes = 0;                   // RLIMIT_FSIZE for the child and its descendants; 0 = none
  std::optional<Credentials> run_as;  // switch to this uid/gid (no supplementary groups) after joining cgroups
  ProcessGate gate;                   // unused while gate.fd < 0
};

struct ProcessOutcome {
  bool started = false;
  std::string spawn_error;
  bool timed_out = false;
  bool cancelled = false;
  bool flooded = false;  // killed for output_kill_bytes
  int exit_code = -1;
  int signal = 0;
  std::string stdout_text;
  std::string stderr_text;
  std::vector<std::string> status_text;  // per entry of status_pipes: what the child wrote there (a prefix)
  std::vector<bool> status_overflowed;   // per entry: more arrived than its limit
  std::string gate_refusal;              // the gate refused: why (the process was killed)
  std::chrono::milliseconds wall{0};
  uint32_t cpu_ms = 0;
  uint64_t max_rss_bytes = 0;
};

// Runs the process in a new process group, feeding nothing on stdin; on timeout or cancel the whole group
// gets SIGKILL. The child also gets SIGKILL if the calling thread's process dies (PR_SET_PDEATHSIG).
ProcessOutcome runProcess(const ProcessSpec& spec);

}  // namespace testfleet::worker
