// The fd numbers at which testfleet-zygote-client finds what ZygoteSandbox hands it, next to the stage runner's own
// (stage_runner_fds.h: the isolation status, stage lines and collect pipes). Constants only: the client links
// nothing but libc.
#pragma once

namespace testfleet::zygote_fds {

inline constexpr int kRequest = 6;    // a pipe holding the job's JSON request, then its end
inline constexpr int kJobSocket = 7;  // the job's socket to the child the zygote forked for it
// From here up, `count` descriptors forwarded to that child after stdin, stdout, stderr, the stage lines and the
// collect pipe: the workspace (O_PATH), then the seccomp program when the request says so, then cgroup.procs files.
inline constexpr int kFirstForwarded = 8;

}  // namespace testfleet::zygote_fds
