// The host identity a child of the worker takes before it executes a job's process (a worker run as root hands
// jobs to an unprivileged uid of their own, see sandbox_uids.h).
#pragma once

#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

namespace testfleet::worker {

struct Credentials {
  uid_t uid = 0;
  gid_t gid = 0;
};

// Takes `c` for good: no supplementary groups, real, effective and saved ids all set. For a child right after
// fork: raw system calls, which change only the calling thread (the only one there) and are async-signal-safe.
inline bool takeCredentials(const Credentials& c) {
  return ::syscall(SYS_setgroups, 0, nullptr) == 0 && ::syscall(SYS_setresgid, c.gid, c.gid, c.gid) == 0 &&
         ::syscall(SYS_setresuid, c.uid, c.uid, c.uid) == 0;
}

}  // namespace testfleet::worker
