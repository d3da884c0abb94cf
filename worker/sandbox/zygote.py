"""testfleet's pytest zygote: python3 -I zygote.py CONTROL_FD

Runs inside a bubblewrap sandbox of its own (ZygoteSandbox starts it: read-only /usr and root, no network, no job
files). It imports pytest once and then never runs a test itself: for each job it forks a child that enters fresh
namespaces and runs the job there. The protocol (SOCK_SEQPACKET):

  CONTROL_FD   worker -> zygote: one message per job, one byte, carrying the job's socket (SCM_RIGHTS).
  job socket   client -> child:  one message, the job's JSON request, carrying fds in this order: stdin, stdout,
                                 stderr, stage status, collect, workspace (O_PATH), then `seccomp` (0 or 1) and the
                                 job's cgroup.procs files (`cgroups` of them, opened by the worker).
               child -> client:  "ready" once the sandbox is set up, or "setup <why>"; then "exit <code>".

The child: joins the job's cgroups, unshares user, pid, mount, net, ipc and uts namespaces, and forks the job's init
(pid 1 of the new pid namespace), which mounts a fresh /proc, tmpfs /tmp, /work (filled from the workspace),
/tf-out, /dev/shm and /dev/pts, names the host, and forks the test: rlimits, no capabilities, no_new_privs, the
seccomp filter, the job's environment only, then pytest.main in /work (or /bin/sh -c for a command that is not a
plain pytest call). The init enforces the timeout, kills every process of the job at the end, and sends back the
stage lines and the report as the stage runner would (stage_runner.cc, collected_output.h).
"""
import ctypes
import gc
import json
import os
import re
import resource
import select
import signal
import socket
import sys
import time

import pytest  # noqa: F401  the point of the zygote: imported once, before any job
import _pytest.config  # noqa: F401
import _pytest.junitxml  # noqa: F401
import _pytest.python  # noqa: F401

for _plugin in _pytest.config.default_plugins:  # what every pytest.main would import first
    __import__("_pytest." + _plugin)

LIBC = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 0x4000, 0x40000
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP = 1, 4, 24, 38, 22
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
SECCOMP_MODE_FILTER = 2
JOB_UID = 1000  # the uid a job sees, as in BubblewrapSandbox
FD_NAMES = ("stdin", "stdout", "stderr", "status", "collect", "workspace")


class SetupError(Exception):
    pass


def check(ret, what):
    if ret != 0:
        err = ctypes.get_errno()
        raise SetupError(f"{what}: {os.strerror(err)}")


def mount(source, target, fstype, flags=0, data=None):
    check(LIBC.mount(source.encode(), target.encode(), fstype.encode() if fstype else None, ctypes.c_ulong(flags),
                     data.encode() if data else None), f"mount {target}")


def write_file(path, text):
    with open(path, "w") as f:
        f.write(text)


def copy_tree(src, dst):
    """Regular files and folders only, executable bits kept (the stage runner's copyWorkspace)."""
    for entry in os.scandir(src):
        s, d = os.path.join(src, entry.name), os.path.join(dst, entry.name)
        if entry.is_dir(follow_symlinks=False):
            os.mkdir(d, 0o755)
            copy_tree(s, d)
        elif entry.is_file(follow_symlinks=False):
            mode = 0o755 if entry.stat(follow_symlinks=False).st_mode & 0o100 else 0o644
            with open(s, "rb") as fi, open(os.open(d, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "wb") as fo:
                while True:
                    chunk = fi.read(1 << 16)
                    if not chunk:
                        break
                    fo.write(chunk)


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_capabilities():
    for cap in range(64):
        if LIBC.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            break  # past the last capability this kernel knows
    LIBC.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header, data = CapHeader(0x20080522, 0), (CapData * 2)()
    check(LIBC.capset(ctypes.byref(header), data), "capset")


def apply_seccomp(program):
    buf = ctypes.create_string_buffer(program, len(program))
    prog = SockFprog(len(program) // 8, ctypes.addressof(buf))
    check(LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    check(LIBC.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0), "seccomp")


def shell_words(command, env):
    """The words /bin/sh would make of a simple command line: unquoted words without special characters, '...'
    literally, "..." with $TF_OUT as the only expansion. None for anything else (it then runs through /bin/sh)."""
    words, word, i, text = [], None, 0, command.strip()
    while i < len(text):
        c = text[i]
        if c in " \t":
            if word is not None:
                words.append(word)
            word, i = None, i + 1
            continue
        word = word or ""
        if c in "'\"":
            end = text.find(c, i + 1)
            if end < 0:
                return None
            inner = text[i + 1:end]
            if c == '"':
                inner = re.sub(r"\$(TF_OUT(?!\w)|\{TF_OUT\})", lambda _: env.get("TF_OUT", ""), inner)
                if any(ch in inner for ch in "$`\\"):
                    return None
            word, i = word + inner, end + 1
        elif c in "$`\\*?[~;&|<>(){}#!\n":
            return None
        else:
            word, i = word + c, i + 1
    if word is not None:
        words.append(word)
    return words


def pytest_args(command, env):
    """The arguments of a plain `python3 -m pytest ...` command, or None when it must run through /bin/sh (shell
    syntax, or an environment that changes how Python starts)."""
    if any(k.startswith("PYTHON") for k in env):
        return None
    words = shell_words(command, env)
    if words is None or words[:3] != ["python3", "-m", "pytest"]:
        return None
    return words[3:]


def run_test(req, fds, seccomp):
    """The test process: never returns."""
    try:
        os.dup2(fds["stdin"], 0)
        os.dup2(fds["stdout"], 1)
        os.dup2(fds["stderr"], 2)
        os.closerange(3, 1 << 16)
        os.setsid()
        if req.get("max_file_bytes"):
            resource.setrlimit(resource.RLIMIT_FSIZE, (req["max_file_bytes"], req["max_file_bytes"]))
        os.chdir("/work")
        drop_capabilities()
        if seccomp is not None:
            apply_seccomp(seccomp)
        for sig in (signal.SIGINT, signal.SIGPIPE, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        os.environ.clear()
        os.environ.update(req["env"])
        args = pytest_args(req["command"], req["env"])
        if args is None:
            os.execv("/bin/sh", ["/bin/sh", "-c", req["command"], "test"])
        sys.argv = ["python3 -m pytest", *args]
        sys.path.insert(0, "/work")  # what `python3 -m` puts first
        code = pytest.main(args)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(int(code))
    except BaseException as e:  # the test process must end here, never return into the zygote's code
        try:
            os.write(2, f"testfleet zygote: {e!r}\n".encode())
        finally:
            os._exit(126)


def read_report(path, limit):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not (st.st_mode & 0o170000 == 0o100000):
            return None
        data = b""
        while len(data) < limit:
            chunk = os.read(fd, min(1 << 16, limit - len(data)))
            if not chunk:
                break
            data += chunk
        return data, st.st_size
    finally:
        os.close(fd)


def collect(fd, kind, path, content, size, truncated):
    p = path.encode()
    os.write(fd, f"{kind} {len(p)} {len(content)} {size} {1 if truncated else 0}\n".encode())
    view = p + content
    while view:
        view = view[os.write(fd, view):]


def kill_all():
    """Every process of the job's pid namespace but its init."""
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        pass


def job_init(req, fds, seccomp, job_sock):
    """pid 1 of the job's pid namespace: sets up its mounts, runs the test, reports like the stage runner."""
    LIBC.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    mount("none", "/", None, MS_REC | MS_PRIVATE)
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={req['tmp_bytes']},mode=1777")
    mount("tmpfs", "/work", "tmpfs", MS_NOSUID | MS_NODEV, f"size={req['workspace_bytes']},mode=0777")
    mount("tmpfs", "/tf-out", "tmpfs", MS_NOSUID | MS_NODEV, f"size={req['out_bytes']},mode=0777")
    mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=65536k,mode=1777")
    mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620")
    socket.sethostname("testfleet")
    status = fds["status"]
    try:
        copy_tree(f"/proc/self/fd/{fds['workspace']}", "/work")
        os.write(status, b"workspace exit 0\n")
    except OSError as e:
        os.write(status, b"workspace exit 1\n")
        os.write(fds["stderr"], f"testfleet: cannot copy the workspace: {e}\n".encode())
        return 125
    os.close(fds["workspace"])
    job_sock.send(b"ready")
    started = time.monotonic()
    deadline = started + req["timeout_ms"] / 1000 if req["timeout_ms"] > 0 else None
    test = os.fork()
    if test == 0:
        job_sock.close()
        run_test(req, fds, seccomp)
    pidfd = os.pidfd_open(test)
    poll = select.poll()
    poll.register(pidfd, select.POLLIN)
    poll.register(job_sock.fileno(), select.POLLIN)  # the client went away: the worker ended the job
    timed_out = False
    while True:
        left = None if deadline is None else max(0, int((deadline - time.monotonic()) * 1000))
        events = dict(poll.poll(left))
        if pidfd in events:
            break
        if job_sock.fileno() in events or (deadline is not None and time.monotonic() >= deadline):
            timed_out = True
            kill_all()
            break
    _, wstatus = os.waitpid(test, 0)
    if timed_out:
        os.write(status, f"test timeout {int((time.monotonic() - started) * 1000)}\n".encode())
    elif os.WIFSIGNALED(wstatus):
        os.write(status, f"test signal {os.WTERMSIG(wstatus)}\n".encode())
    else:
        os.write(status, f"test exit {os.WEXITSTATUS(wstatus)}\n".encode())
    report = read_report("/tf-out/report", req["report_bytes"])  # before the leftovers could rewrite it: they
    kill_all()  # are killed here, in the stage runner's order (report, then kill)
    while True:
        try:
            if os.waitpid(-1, 0)[0] <= 0:
                break
        except ChildProcessError:
            break
    if report is not None:
        collect(fds["collect"], "report", "report", report[0], report[1], len(report[0]) < report[1])
    collect(fds["collect"], "end", "", b"", 0, False)
    return 128 + os.WTERMSIG(wstatus) if os.WIFSIGNALED(wstatus) else os.WEXITSTATUS(wstatus)


def job_child(job_sock):
    """Forked from the zygote for one job: receives the request, enters the job's cgroups and namespaces."""
    for sig in (signal.SIGCHLD, signal.SIGINT, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    msg, anc, _, _ = job_sock.recvmsg(1 << 20, socket.CMSG_SPACE(64 * 4))
    received = []
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            received += list(memoryview(data).cast("i"))
    req = json.loads(msg)
    fds = dict(zip(FD_NAMES, received))
    rest = received[len(FD_NAMES):]
    try:
        if len(received) != len(FD_NAMES) + req["seccomp"] + req["cgroups"]:
            raise SetupError(f"the request carried {len(received)} descriptors")
        seccomp = None
        if req["seccomp"]:
            with os.fdopen(rest.pop(0), "rb") as f:
                seccomp = f.read()
        uid, gid = os.getuid(), os.getgid()
        for procs in rest:  # opened by the worker (root): writing our own pid is allowed through them
            os.write(procs, b"0")
            os.close(procs)
        check(LIBC.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS),
              "unshare")
        LIBC.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)  # /proc/self/*_map belong to root while it is 0
        write_file("/proc/self/setgroups", "deny")
        write_file("/proc/self/uid_map", f"{JOB_UID} {uid} 1\n")
        write_file("/proc/self/gid_map", f"{JOB_UID} {gid} 1\n")
        init = os.fork()
        if init == 0:
            code = 125
            try:
                code = job_init(req, fds, seccomp, job_sock)
            except BaseException as e:
                try:
                    job_sock.send(f"setup {e}".encode())
                except OSError:
                    pass
            finally:
                for fd in (fds["stdout"], fds["stderr"], fds["status"], fds["collect"]):
                    os.close(fd)
                try:
                    job_sock.send(f"exit {code}".encode())
                finally:
                    os._exit(code)
        for fd in fds.values():
            os.close(fd)
        _, wstatus = os.waitpid(init, 0)
        os._exit(0)
    except BaseException as e:
        try:
            job_sock.send(f"setup {e}".encode())
        finally:
            os._exit(125)


def main():
    # What is imported so far lives in every child: kept out of the collector's sight, so a child's collections do
    # not touch (and copy) those pages, as pre-forking servers do.
    gc.freeze()
    control = socket.socket(fileno=int(sys.argv[1]))
    control.send(b"ready")
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # job children are reaped by the kernel
    LIBC.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(control, 1, 1)
        except ConnectionResetError:
            return 0
        if not msg:
            return 0  # the worker closed the control socket
        for fd in fds:
            if os.fork() == 0:
                control.close()
                try:
                    job_child(socket.socket(fileno=fd))
                finally:
                    os._exit(125)
            os.close(fd)


if __name__ == "__main__":
    sys.exit(main())
