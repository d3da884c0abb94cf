#include "worker/sandbox/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "common/text.h"

namespace testfleet::worker {
namespace {
using Clock = std::chrono::steady_clock;

// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

bool makePipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  read_end = Fd(fds[0]);
  write_end = Fd(fds[1]);
  return true;
}

constexpr size_t kMaxStatusPipes = 4;
constexpr size_t kMaxInherited = 16;

// In the child after fork: only async-signal-safe calls (raw system calls) until exec.
[[noreturn]] void execChild(const ProcessSpec& spec, int out, int err, const int* status, int gate, char** argv,
                            char** envp, pid_t parent) {
  auto die = [err](const char* msg, size_t n) {
    (void)!::write(err, msg, n);
    ::_exit(126);
  };
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);
  // Join the job's cgroups before anything of the job runs: nothing it starts can be outside them.
  for (const auto& file : spec.join_files) {
    int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, "0", 1) != 1) {
      const char msg[] = "testfleet: cannot join the job's cgroup\n";
      die(msg, sizeof msg - 1);
    }
    ::close(fd);
  }
  if (spec.max_file_bytes > 0) {
    rlimit fsize{spec.max_file_bytes, spec.max_file_bytes};
    ::setrlimit(RLIMIT_FSIZE, &fsize);
  }
  if (spec.run_as) {
    if (!takeCredentials(*spec.run_as)) {
      const char msg[] = "testfleet: cannot switch to the sandbox's uid/gid\n";
      die(msg, sizeof msg - 1);
    }
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a change of credentials clears it
    if (::getppid() != parent) ::_exit(127);
  }
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ::dup2(devnull, 0);
  ::dup2(out, 1);
  ::dup2(err, 2);
  // Every fd the child gets at a fixed number: first moved above all of them, then down to its number.
  struct Placement {
    int target;
    int source;
  };
  Placement places[kMaxStatusPipes + 1 + kMaxInherited];
  size_t n = 0;
  for (size_t i = 0; i < spec.status_pipes.size(); ++i) places[n++] = {spec.status_pipes[i].fd, status[i]};
  if (gate >= 0) places[n++] = {spec.gate.fd, gate};
  for (size_t i = 0; i < spec.inherit_fds.size(); ++i)
    places[n++] = {spec.inherit_fds[i].first, spec.inherit_fds[i].second};
  for (size_t i = 0; i < n; ++i) places[i].source = ::fcntl(places[i].source, F_DUPFD_CLOEXEC, 64);
  int highest = 2;
  for (size_t i = 0; i < n; ++i) {
    ::dup2(places[i].source, places[i].target);  // clears CLOEXEC
    highest = std::max(highest, places[i].target);
  }
  // Nothing else of the worker (Kafka sockets, other jobs' pipes) reaches the child.
  ::close_range(static_cast<unsigned>(highest) + 1, ~0U, 0);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(argv[0], argv, envp);
  const char msg[] = "testfleet: exec failed\n";
  (void)!::write(2, msg, sizeof msg - 1);
  ::_exit(127);
}

// Keeps the first `limit` bytes of a stream and whether more arrived.
class PrefixOutput {
 public:
  explicit PrefixOutput(size_t limit) : limit_(limit) {}
  void append(const char* data, size_t n) {
    const size_t take = std::min(n, limit_ - std::min(limit_, text_.size()));
    text_.append(data, take);
    overflowed_ |= take < n;
  }
  std::string& text() { return text_; }
  bool overflowed() const { return overflowed_; }

 private:
  size_t limit_;
  std::string text_;
  bool overflowed_ = false;
};

constexpr size_t kStreams = 2 + kMaxStatusPipes;

// The parent's side of a started child: reads its stdout, stderr and status pipes until all are closed (or 5 s
// after its group was killed), answers its gate, and kills its whole process group, once, on timeout, cancel,
// output flood or a refused gate, saying which in the outcome.
struct ChildWatch {
  ChildWatch(const ProcessSpec& spec, pid_t pid, Clock::time_point start, ProcessOutcome& outcome, Fd& out_r, Fd& err_r,
             std::array<Fd, kMaxStatusPipes>& st_r, Fd& gate_w)
      : spec(spec),
        pid(pid),
        outcome(outcome),
        nstatus(spec.status_pipes.size()),
        deadline(start + spec.timeout),
        fds{&out_r, &err_r, &st_r[0], &st_r[1], &st_r[2], &st_r[3]},
        gate_w(gate_w),
        out(spec.output_limit),
        err(spec.output_limit),
        gate_pending(gate_w.get() >= 0) {
    for (const auto& p : spec.status_pipes) status.emplace_back(p.limit);
  }

  void killGroup() {
    if (!killed) ::kill(-pid, SIGKILL);
    killed = true;
    killed_at = Clock::now();
  }

  // Asks the gate about what the first status pipe carried so far: opens it, kills the group, or waits for more.
  void askGate() {
    std::string why;
    const auto answer = spec.gate.decide(nstatus > 0 ? status[0].text() : std::string(), why);
    if (answer == ProcessGate::Answer::kWait) return;
    gate_pending = false;
    if (answer == ProcessGate::Answer::kOpen) {
      (void)!::write(gate_w.get(), "1", 1);
    } else {
      outcome.gate_refusal = why.empty() ? "refused" : why;
      killGroup();
    }
    gate_w.reset();
  }

  // Kills the group when the deadline has passed, the job was cancelled or its output is a flood.
  void enforceLimits(Clock::time_point now) {
    if (!killed && spec.timeout.count() > 0 && now >= deadline) {
      outcome.timed_out = true;
      killGroup();
    }
    if (!killed && spec.cancel && spec.cancel->load()) {
      outcome.cancelled = true;
      killGroup();
    }
    if (!killed && spec.output_kill_bytes > 0 && out.total() + err.total() > spec.output_kill_bytes) {
      outcome.flooded = true;
      killGroup();
    }
  }

  // Reads what the poll found ready, in the stream it belongs to; a closed or failed stream is closed here.
  void readReady(const std::array<pollfd, kStreams>& pfds, int n, const std::array<size_t, kStreams>& which,
                 int ready) {
    for (int k = 0; k < n && ready > 0; ++k) {
      if (!(pfds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[65536];
      ssize_t got = ::read(pfds[k].fd, buf, sizeof buf);
      const size_t stream = which[k];
      if (got > 0) {
        if (stream == 0)
          out.append(buf, static_cast<size_t>(got));
        else if (stream == 1)
          err.append(buf, static_cast<size_t>(got));
        else
          status[stream - 2].append(buf, static_cast<size_t>(got));
        if (stream == 2 && gate_pending && !killed) askGate();
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        fds[stream]->reset();
      }
    }
  }

  void readUntilClosed() {
    for (;;) {
      std::array<pollfd, kStreams> pfds{};
      int n = 0;
      std::array<size_t, kStreams> which{};
      for (size_t i = 0; i < kStreams; ++i) {
        if (fds[i]->get() >= 0) {
          pfds[n] = {fds[i]->get(), POLLIN, 0};
          which[n++] = i;
        }
      }
      if (n == 0) break;
      auto now = Clock::now();
      enforceLimits(now);
      int wait_ms = 100;
      if (!killed && spec.timeout.count() > 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
        wait_ms = static_cast<int>(std::clamp<int64_t>(left, 0, 100));
      }
      int ready = ::poll(pfds.data(), n, wait_ms);
      if (ready < 0 && errno != EINTR) break;
      readReady(pfds, n, which, ready);
      // A killed tree may leave a descendant holding the pipes open outside the group: stop reading then.
      if (killed && Clock::now() - killed_at > std::chrono::seconds(5)) break;
    }
  }

  const ProcessSpec& spec;
  const pid_t pid;
  ProcessOutcome& outcome;
  const size_t nstatus;
  const Clock::time_point deadline;
  std::array<Fd*, kStreams> fds;
  Fd& gate_w;
  BoundedOutput out, err;
  std::vector<PrefixOutput> status;
  bool killed = false;
  Clock::time_point killed_at;
  bool gate_pending;
};

// Waits for the child and records how it ended, its wall time (from `start`) and its resource use; kills what is
// left of its group unless that was done already.
void reapChild(pid_t pid, bool killed, Clock::time_point start, ProcessOutcome& outcome) {
  int wstatus = 0;
  rusage usage{};
  while (::wait4(pid, &wstatus, 0, &usage) < 0 && errno == EINTR) {
  }
  if (!killed) ::kill(-pid, SIGKILL);  // whatever of the group is left once the leader ended
  outcome.wall = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  if (WIFEXITED(wstatus)) {
    outcome.exit_code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    outcome.signal = WTERMSIG(wstatus);
  }
  outcome.cpu_ms = static_cast<uint32_t>((usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000 +
                                         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1000);
  outcome.max_rss_bytes = static_cast<uint64_t>(usage.ru_maxrss) * 1024;
}
}  // namespace

void BoundedOutput::append(const char* data, size_t n) {
  total_ += n;
  const size_t head_cap = limit_ / 4;
  if (head_.size() < head_cap) {
    size_t take = std::min(n, head_cap - head_.size());
    head_.append(data, take);
    data += take;
    n -= take;
  }
  const size_t tail_cap = limit_ - head_cap;
  tail_.append(data, n);
  if (tail_.size() > 2 * tail_cap + 4096) tail_.erase(0, tail_.size() - tail_cap);
}

std::string BoundedOutput::text() const {
  const size_t tail_cap = limit_ - limit_ / 4;
  std::string_view tail = tail_;
  if (tail.size() > tail_cap) tail.remove_prefix(tail.size() - tail_cap);
  size_t dropped = total_ - head_.size() - tail.size();
  if (dropped == 0) return head_ + std::string(tail);
  return head_ + "\n[... testfleet cut " + std::to_string(dropped) + " bytes ...]\n" + std::string(tail);
}

ProcessOutcome runProcess(const ProcessSpec& spec) {
  ProcessOutcome outcome;
  Fd out_r, out_w, err_r, err_w, gate_r, gate_w;
  std::array<Fd, kMaxStatusPipes> st_r, st_w;
  const size_t nstatus = spec.status_pipes.size();
  if (nstatus > kMaxStatusPipes || spec.inherit_fds.size() > kMaxInherited) {
    outcome.spawn_error = "too many status pipes or inherited fds";
    return outcome;
  }
  bool piped = makePipe(out_r, out_w) && makePipe(err_r, err_w);
  for (size_t i = 0; i < nstatus && piped; ++i) piped = makePipe(st_r[i], st_w[i]);
  if (piped && spec.gate.fd >= 0) piped = makePipe(gate_r, gate_w);
  if (!piped) {
    outcome.spawn_error = std::string("pipe: ") + std::strerror(errno);
    return outcome;
  }
  int st_w_raw[kMaxStatusPipes];
  for (size_t i = 0; i < nstatus; ++i) st_w_raw[i] = st_w[i].get();
  std::vector<char*> argv, envp;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  const auto start = Clock::now();
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    outcome.spawn_error = std::string("fork: ") + std::strerror(errno);
    return outcome;
  }
  if (pid == 0) execChild(spec, out_w.get(), err_w.get(), st_w_raw, gate_r.get(), argv.data(), envp.data(), parent);
  ::setpgid(pid, pid);  // also in the parent, so the group exists before we might kill it
  outcome.started = true;
  out_w.reset();
  err_w.reset();
  gate_r.reset();
  for (auto& w : st_w) w.reset();

  ChildWatch watch(spec, pid, start, outcome, out_r, err_r, st_r, gate_w);
  watch.readUntilClosed();
  reapChild(pid, watch.killed, start, outcome);
  outcome.stdout_text = watch.out.text();
  outcome.stderr_text = watch.err.text();
  for (auto& st : watch.status) {
    outcome.status_text.push_back(std::move(st.text()));
    outcome.status_overflowed.push_back(st.overflowed());
  }
  return outcome;
}

}  // namespace testfleet::worker
