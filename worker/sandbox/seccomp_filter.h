// The seccomp filter every job runs under, built with libseccomp and handed to bubblewrap (--seccomp FD) as a
// compiled BPF program. Default allow; the calls that let a process leave or attack its sandbox fail with EPERM:
// ptrace, mount and friends, pivot_root, unshare/setns and clone with new namespaces, bpf, perf_event_open, the
// keyctl family, userfaultfd, kexec and module loading, open_by_handle_at, TIOCSTI/TIOCLINUX, and more.
#pragma once

#include <string>

#include "worker/sandbox/memory_file.h"

namespace testfleet::worker {

// A memfd holding the compiled program, positioned at its start. Owns the fd.
class SeccompProgram {
 public:
  // Builds the filter for this machine's architecture; throws std::runtime_error saying what failed.
  SeccompProgram();

  // A fresh fd reading the program from its start, for one child (bubblewrap reads it to the end). Caller closes.
  int openForChild() const { return program_.openForChild(); }

 private:
  MemoryFile program_{"testfleet-seccomp"};
};

}  // namespace testfleet::worker
