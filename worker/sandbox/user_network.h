// `network: true` for one sandbox: slirp4netns, a user-mode TCP/IP stack, attached to the sandbox's own network
// namespace. The job gets a tap interface with a default route and DNS (10.0.2.3) through the stack, which opens
// ordinary sockets on the worker's network for it. Connections to the host's loopback are refused
// (--disable-host-loopback), and the host's abstract unix sockets stay in another namespace. The stack runs as the
// job's own host uid, in the job's cgroups, and ends with the job.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "worker/sandbox/process.h"

namespace testfleet::worker {

class UserNetwork {
 public:
  // Starts the stack for the sandbox whose first process is `sandbox_pid` and waits until its interface is up.
  // Returns nullptr and sets `error` when it could not.
  static std::unique_ptr<UserNetwork> attach(const std::filesystem::path& slirp4netns, pid_t sandbox_pid,
                                             const std::optional<Credentials>& run_as,
                                             const std::vector<std::string>& join_files, std::string& error);
  // Checks that networks can be given here; returns what is wrong (and how to fix it), or "".
  static std::string probe(const std::filesystem::path& slirp4netns);
  // What the sandbox's /etc/resolv.conf says.
  static constexpr const char* kResolvConf = "nameserver 10.0.2.3\n";

  ~UserNetwork();
  UserNetwork(const UserNetwork&) = delete;
  UserNetwork& operator=(const UserNetwork&) = delete;

 private:
  UserNetwork(pid_t pid, int exit_fd) : pid_(pid), exit_fd_(exit_fd) {}
  pid_t pid_;
  int exit_fd_;  // closing it tells slirp4netns to exit
};

}  // namespace testfleet::worker
