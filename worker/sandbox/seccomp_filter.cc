#include "worker/sandbox/seccomp_filter.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

namespace testfleet::worker {
namespace {

struct CtxDeleter {
  void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};

// Calls a test has no business making. Names, so a kernel or libseccomp without one is skipped, not an error.
constexpr const char* kDenied[] = {
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "mount",
    "umount",
    "umount2",
    "pivot_root",
    "chroot",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "unshare",
    "setns",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "add_key",
    "request_key",
    "keyctl",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "open_by_handle_at",
    "name_to_handle_at",
    "reboot",
    "swapon",
    "swapoff",
    "syslog",
    "acct",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "sethostname",
    "setdomainname",
    "iopl",
    "ioperm",
    "quotactl",
    "nfsservctl",
    "lookup_dcookie",
    "vhangup",
    "uselib",
    "fanotify_init",
    // io_uring performs system calls on the job's behalf where this filter does not see them.
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
};

void addRule(scmp_filter_ctx ctx, uint32_t action, const char* name, unsigned count = 0,
             const scmp_arg_cmp* args = nullptr) {
  int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) return;  // not on this architecture
  int rc = count ? seccomp_rule_add_array(ctx, action, nr, count, args) : seccomp_rule_add(ctx, action, nr, 0);
  if (rc != 0 && rc != -EEXIST)
    throw std::runtime_error(std::string("seccomp rule for ") + name + ": " + std::strerror(-rc));
}

}  // namespace

SeccompProgram::SeccompProgram() {
  std::unique_ptr<void, CtxDeleter> ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) throw std::runtime_error("seccomp_init failed");
  const uint32_t deny = SCMP_ACT_ERRNO(EPERM);
  for (const char* name : kDenied) addRule(ctx.get(), deny, name);
  // New namespaces through clone: refuse the flags; clone3 cannot be inspected, so it reports ENOSYS and libc
  // falls back to clone.
  for (uint64_t flag :
       {static_cast<uint64_t>(CLONE_NEWNS), static_cast<uint64_t>(CLONE_NEWUSER), static_cast<uint64_t>(CLONE_NEWPID),
        static_cast<uint64_t>(CLONE_NEWNET), static_cast<uint64_t>(CLONE_NEWIPC), static_cast<uint64_t>(CLONE_NEWUTS),
        static_cast<uint64_t>(CLONE_NEWCGROUP)}) {
    const scmp_arg_cmp a{.arg = 0, .op = SCMP_CMP_MASKED_EQ, .datum_a = flag, .datum_b = flag};
    addRule(ctx.get(), deny, "clone", 1, &a);
  }
  addRule(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), "clone3");
  // Typing into the controlling terminal of someone else.
  for (unsigned long request : {static_cast<unsigned long>(TIOCSTI), static_cast<unsigned long>(TIOCLINUX)}) {
    const scmp_arg_cmp a{.arg = 1, .op = SCMP_CMP_MASKED_EQ, .datum_a = 0xffffffffu, .datum_b = request};
    addRule(ctx.get(), deny, "ioctl", 1, &a);
  }
  if (int rc = seccomp_export_bpf(ctx.get(), program_.fd()); rc != 0) {
    throw std::runtime_error(std::string("seccomp_export_bpf: ") + std::strerror(-rc));
  }
}

}  // namespace testfleet::worker
