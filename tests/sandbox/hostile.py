#!/usr/bin/env python3
"""Hostile jobs through the real sandbox (testfleet-worker --run-suite: bubblewrap, cgroups, seccomp; no Kafka).

Each case runs a real hostile program and checks both its verdict and that it was contained: the host, the
worker and other jobs are untouched. Run: hostile.py --build build [--zygotes] [case ...]

With --zygotes the worker runs with --zygotes and every shell job of a case becomes a pytest job whose one test runs
the same command (its stdout the job's, pytest's own terminal output to /dev/null) and ends the test process as the command ended, so the hostile program runs
inside a zygote-forked sandbox and the same checks hold. Jobs with setup, teardown, artifacts or a network still
run cold there (the zygote does not take them).
"""
import argparse
import json
import glob
import http.server
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

ARGS = None
FAILURES = []
MARKER = f"tfmark{os.getpid()}"


def sleeper(tag, extra=""):
    """A long sleep whose command line carries a unique marker, so pgrep can find it on the host."""
    return f"python3 -c 'import signal, time{extra}; time.sleep(300)' {MARKER}{tag}"


def check(condition, message):
    print(("  ok   " if condition else "  FAIL ") + message)
    if not condition:
        FAILURES.append(message)


def job_dir(prefix="testfleet-hostile-"):
    """A temporary folder for a worker's job folders: jobs run as their own uids, which must pass through it."""
    d = tempfile.mkdtemp(prefix=prefix)
    os.chmod(d, 0o711)
    if ARGS.as_user:
        pw = pwd.getpwnam(ARGS.as_user)
        os.chown(d, pw.pw_uid, pw.pw_gid)
    return d


def worker_bin():
    return os.path.join(ARGS.build, "worker", "testfleet-worker")


def worker_command(*args):
    """The worker's command line, run as --as-user when given (then without cgroups, which need root)."""
    args = (*args, *(["--zygotes"] if ARGS.zygotes else []))
    if not ARGS.as_user:
        return [worker_bin(), *args]
    pw = pwd.getpwnam(ARGS.as_user)
    return ["setpriv", "--reuid", str(pw.pw_uid), "--regid", str(pw.pw_gid), "--clear-groups",
            worker_bin(), "--cgroups", "off", *args]


def run_worker(mode, items, *flags, env=None, timeout=300, inspect=None):
    """Runs a suite's tests (mode --run-suite) or raw Job records (--run-jobs) in the local sandbox; returns the
    results by name. inspect(work_dir) runs before the folders are removed (with --keep-workspaces, what jobs left)."""
    d = job_dir()
    try:
        path = os.path.join(d, "input")
        with open(path, "w") as f:
            if mode == "--run-suite":
                json.dump({"name": "hostile", "tests": items}, f)  # JSON is YAML
            else:
                f.write("".join(json.dumps(j) + "\n" for j in items))
        os.chmod(path, 0o644)
        p = subprocess.run(worker_command(mode, path, "--work-dir", os.path.join(d, "work"), "--log-level", "warn",
                                          *flags), capture_output=True, text=True, timeout=timeout, env=env)
        results = {}
        for line in p.stdout.splitlines():
            r = json.loads(line)
            results[r["name"]] = r
        missing = [t["name"] for t in items if t["name"] not in results]
        assert not missing, f"no result for {missing}; stderr: {p.stderr[-2000:]}"
        if inspect:
            inspect(os.path.join(d, "work"))
        return results
    finally:
        shutil.rmtree(d, ignore_errors=True)


def run_jobs(tests, *flags, env=None, timeout=300):
    """Runs the tests (suite entries) locally in the sandbox; returns {name: result}."""
    return run_worker("--run-suite", tests, *flags, env=env, timeout=timeout)


def survivors(pattern):
    out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
    return [int(x) for x in out.stdout.split()]


def gone(pattern, limit=5.0):
    """Whether every process matching pattern is gone within limit seconds (killed ones take a moment to be reaped)."""
    deadline = time.monotonic() + limit
    while survivors(pattern) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not survivors(pattern)


# The test a shell job becomes with --zygotes: the command runs as the test, and the test process ends as it ended
# (exit code, or the same signal), so verdicts are the shell job's; only a command that succeeds lets pytest report.
FORKED_TEST = """import os, signal, subprocess, sys

COMMAND_STDOUT = os.dup(1)  # the job's stdout is the command's alone, as in a shell job; pytest's goes nowhere
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)

def test_command():
    if FORKED and b"zygote.py" not in open("/proc/1/cmdline", "rb").read():
        sys.exit("hostile.py: this job should have run in a zygote-forked sandbox")
    code = subprocess.run(["/bin/sh", "-c", COMMAND], stdout=COMMAND_STDOUT).returncode
    if code < 0:
        if -code not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    if code != 0:
        os._exit(code)
"""


def sh(name, command, **extra):
    job = {"name": name, "framework": "shell", "command": command, "timeout": extra.pop("timeout", "30s"), **extra}
    if ARGS.zygotes:
        files = dict(job.get("files", {}))
        forked = not any(job.get(k) for k in ("setup", "teardown", "artifacts", "network"))
        files["test_hostile_command.py"] = f"COMMAND = {command!r}\nFORKED = {forked}\n" + FORKED_TEST
        job.update(framework="pytest", command="-s test_hostile_command.py", files=files)
    return job


def case_resources():
    print("resources: fork bomb, memory bomb, CPU spin, /tmp and file size, output flood")
    fork_bomb = (
        "python3 -c \"import os,time\nn=0\ntry:\n  while True:\n    if os.fork()==0:\n      time.sleep(60); os._exit(0)\n"
        "    n+=1\nexcept OSError:\n  print('fork refused after', n)\"")
    r = run_jobs([
        sh("fork bomb", fork_bomb, max_pids=64),
        sh("memory bomb", "python3 -c 'b = bytearray(1 << 30); print(len(b))'", memory="64Mi"),
        sh("cpu spin", "for i in 1 2 3 4; do (while :; do :; done) & done; sleep 2; kill $(jobs -p)"),
        sh("fill tmp", "dd if=/dev/zero of=/tmp/fill bs=1M count=600 2>/dev/null; "
                       "test $(du -m /tmp/fill | cut -f1) -le 256"),
        sh("big file", "dd if=/dev/zero of=/tmp/big bs=1M count=100"),
        sh("fill workspace", "for i in 1 2 3 4 5 6; do dd if=/dev/zero of=/work/f$i bs=1M count=15 2>/dev/null; done; "
                             "test $(du -sm /work | cut -f1) -le 64"),
        sh("stdout flood", "yes 'flood flood flood'", timeout="60s"),
    ], "--cpus", "0.5", "--max-file-size", "20Mi", "--output-flood-limit", "8Mi", "--workspace-size", "64Mi")
    fb = r["fork bomb"]
    check(fb["verdict"] == "PASSED" and "fork refused after" in fb["stdoutTail"],
          f"fork bomb stopped by pids.max: {fb['stdoutTail'].strip()[:60]!r} ({fb['verdict']})")
    check(not survivors("time.sleep\\(60\\)"), "no fork-bomb child outlived the job")
    mb = r["memory bomb"]
    check(mb["verdict"] == "OOM", f"memory bomb is OOM ({mb['verdict']}: {mb['error']})")
    check(int(mb["usage"]["peakMemoryBytes"]) <= 64 << 20, f"peak memory within 64Mi ({mb['usage']['peakMemoryBytes']})")
    cpu = r["cpu spin"]
    cpu_ms, wall_ms = cpu["usage"]["cpuMs"], cpu["usage"]["wallMs"]
    check(cpu_ms <= 0.75 * wall_ms, f"4 spinning processes held to 0.5 core: {cpu_ms} ms CPU in {wall_ms} ms")
    check(r["fill tmp"]["verdict"] == "PASSED", f"/tmp is a 256 MiB tmpfs ({r['fill tmp']['verdict']})")
    bf = r["big file"]
    check(bf["verdict"] in ("FAILED", "CRASHED"), f"a 100 MiB file is refused at 20 MiB ({bf['verdict']}: {bf['error']})")
    check(r["fill workspace"]["verdict"] == "PASSED", f"the workspace is bounded at 64 MiB ({r['fill workspace']['verdict']})")
    fl = r["stdout flood"]
    check(fl["verdict"] == "FAILED" and "flood" in fl["error"] and fl["usage"]["wallMs"] < 30000,
          f"stdout flood killed at the limit ({fl['verdict']}, {fl['usage']['wallMs']} ms: {fl['error']})")
    check(len(fl["stdoutTail"]) < 200_000, f"flood output kept bounded ({len(fl['stdoutTail'])} bytes)")
    for res in r.values():
        check(res["limitsEnforced"], f"{res['name']}: limits enforced through a cgroup")


def case_survivors():
    print("whole-tree kill: setsid, double fork, TERM-ignoring, timeout")
    r = run_jobs([
        sh("setsid survivor",
           f"setsid {sleeper('a', '; signal.signal(signal.SIGTERM, signal.SIG_IGN)')} & sleep 0.5; pgrep -f {MARKER}a"),
        sh("double fork", f"({sleeper('b')} &) ; sleep 0.5; pgrep -f {MARKER}b"),
        sh("timeout with survivors", f"trap '' TERM; {sleeper('c', '; signal.signal(signal.SIGTERM, signal.SIG_IGN)')} & "
                                     f"sleep 300", timeout="1s"),
    ])
    check(r["double fork"]["verdict"] == "PASSED", "the double-forked process was running when the job ended")
    check(r["setsid survivor"]["verdict"] == "PASSED", "the setsid process was running when the job ended")
    check(r["timeout with survivors"]["verdict"] == "TIMEOUT", "timeout reported")
    check(gone(MARKER), f"no process of any of these jobs survived ({survivors(MARKER)})")


def case_worker_killed():
    print("worker SIGKILLed mid-job: the job dies with it")
    d = job_dir()
    suite = os.path.join(d, "suite.yaml")
    with open(suite, "w") as f:
        json.dump({"name": "k", "tests": [sh("long", sleeper("k"), timeout="10m")]}, f)
    p = subprocess.Popen(worker_command("--run-suite", suite, "--work-dir", os.path.join(d, "w"), "--log-level", "warn"),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not survivors(MARKER + "k") and time.monotonic() < deadline:
        time.sleep(0.05)
    check(bool(survivors(MARKER + "k")), "the job started")
    p.send_signal(signal.SIGKILL)
    p.wait()
    check(gone(MARKER + "k"), "the job's processes died with the worker")
    shutil.rmtree(d, ignore_errors=True)
    # Its cgroups stay behind (nobody removes them on SIGKILL) until the next worker starts and sweeps them.
    patterns = [f"/sys/fs/cgroup/{'*/' * depth}testfleet-{p.pid}" for depth in range(1, 4)]
    stale = [g for pattern in patterns for g in glob.glob(pattern)]
    check(bool(stale), f"the killed worker's cgroups were left ({len(stale)})")
    run_jobs([sh("next worker", "true")])
    left = [g for g in stale if os.path.exists(g)]
    check(not left, f"the next worker removed the dead worker's cgroups ({left[:2]})")


def case_isolation():
    print("isolation: network, host files, worker env, read-only system, other jobs")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    port = server.getsockname()[1]
    accepted = []
    def accept():
        try:
            accepted.append(server.accept())
        except OSError:  # closed at the end of the case
            pass
    threading.Thread(target=accept, daemon=True).start()
    env = dict(os.environ, TESTFLEET_SECRET=MARKER)
    r = run_jobs([
        sh("loopback service of the host",
           f"python3 -c \"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=2)\""),
        sh("no route out", "test -z \"$(grep -v '^Iface' /proc/net/route)\" && "
                           "test $(grep -c : /proc/net/dev) -eq 1"),  # only lo, no default route
        sh("read /etc/shadow", "cat /etc/shadow"),
        sh("worker environment", f"env | grep -q {MARKER} && exit 1; test -z \"$TESTFLEET_SECRET\""),
        sh("worker files", "test ! -e /root && test ! -e /home && test ! -e /work/../root && "
                           "test ! -e /etc/passwd && ! ls /var/tmp/testfleet-worker 2>/dev/null"),
        sh("write /usr", "touch /usr/bin/evil"),
        # A file that exists on every kernel, written with the value it has (never a change, even if it went through).
        sh("write /proc/sys", "test -e /proc/sys/kernel/core_pattern && cat /proc/sys/kernel/core_pattern > /tmp/v && "
                              "cat /tmp/v > /proc/sys/kernel/core_pattern"),
        sh("ptrace", "python3 -c \"import ctypes; r = ctypes.CDLL(None).ptrace(0, 0, 0, 0); "
                     "print(r); raise SystemExit(0 if r == -1 else 1)\""),
        sh("mount", "mkdir -p /tmp/m && mount -t tmpfs none /tmp/m"),
        sh("unshare", "unshare -U true"),
        sh("no new privileges", "grep -q 'NoNewPrivs:\t1' /proc/self/status && test $(id -u) -ne 0"),
        sh("job A leaves files", f"echo secret > /work/{MARKER} && echo secret > /tmp/{MARKER}"),
        sh("job B sees none", f"test ! -e /work/{MARKER} && test ! -e /tmp/{MARKER} && "
                              "test $(ls /proc | grep -c '^[0-9]') -le 6"),
        sh("env reaches the test", "test \"$FOO\" = 'bar baz'", env={"FOO": "bar baz"}),
        sh("exit code 3", "exit 3"),
        sh("killed by SIGKILL", "kill -9 $$"),
        sh("setup fails", "true", setup="exit 4"),
        sh("teardown runs", "true", teardown="echo cleaned"),
    ], env=env)
    server.close()
    check(r["loopback service of the host"]["verdict"] == "FAILED" and not accepted,
          "host loopback service unreachable")
    check(r["no route out"]["verdict"] == "PASSED", "only a loopback interface and no route out")
    expect_failed = ["read /etc/shadow", "write /usr", "write /proc/sys", "mount", "unshare"]
    for name in expect_failed:
        check(r[name]["verdict"] == "FAILED", f"{name}: refused ({r[name]['verdict']}: "
                                              f"{r[name]['stderrTail'].strip()[:70]!r})")
    for name in ["worker environment", "worker files", "ptrace", "no new privileges", "job A leaves files",
                 "job B sees none", "env reaches the test", "teardown runs"]:
        check(r[name]["verdict"] == "PASSED", f"{name}: {r[name]['verdict']} {r[name]['stderrTail'].strip()[:80]!r}")
    check(r["exit code 3"]["verdict"] == "FAILED" and r["exit code 3"]["exitCode"] == 3, "exit code 3 reported")
    k = r["killed by SIGKILL"]
    check(k["verdict"] == "CRASHED" and k["signal"] == 9, f"SIGKILL reported as CRASHED/9 ({k['verdict']}/{k['signal']})")
    s = r["setup fails"]
    check(s["verdict"] == "FAILED" and s["stage"] == "setup", f"failed setup reported as stage setup ({s['stage']})")


def case_artifacts():
    print("artifacts: matching workspace files come back with the result, size-capped")
    r = run_jobs([sh("leaves files", "mkdir -p reports && echo 'log line' > run.log && echo '<x/>' > reports/a.xml && "
                                     "head -c 300000 /dev/zero > reports/big.bin && echo ignored > other.txt",
                     artifacts=["*.log", "reports/*"])], "--artifact-bytes", "100Ki")
    arts = {a["path"]: a for a in r["leaves files"].get("artifacts", [])}
    check(set(arts) == {"run.log", "reports/a.xml", "reports/big.bin"}, f"the matching files, and only those: {sorted(arts)}")
    check(not arts.get("run.log", {}).get("truncated") and arts.get("reports/big.bin", {}).get("truncated"),
          "small files whole, the one over the budget cut")
    import base64
    check(base64.b64decode(arts.get("run.log", {}).get("content", "")) == b"log line\n", "content kept")
    total = sum(len(base64.b64decode(a.get("content", ""))) for a in arts.values())
    check(total <= 100 << 10, f"within the 100 KiB artifact budget ({total} bytes)")


GO_MODULE = {
    "go.mod": "module example.com/calc\n\ngo 1.21\n",
    "calc.go": "package calc\n\nfunc Add(a, b int) int { return a + b }\n",
    "calc_test.go": (
        "package calc\n\nimport \"testing\"\n\n"
        "func TestAdd(t *testing.T) { if Add(2, 2) != 4 { t.Fatal(\"bad\") } }\n"
        "func TestWrong(t *testing.T) { if Add(2, 2) != 5 { t.Errorf(\"want 5, got %d\", Add(2, 2)) } }\n"
        "func TestLater(t *testing.T) { t.Skip(\"not yet\") }\n"),
}


def case_go_adapter():
    print("go test adapter: per-test verdicts equal go test's own")
    go = "/usr/local/go/bin/go"
    if not os.path.exists(go):
        check(False, "Go is installed at /usr/local/go (the polyglot machine has it)")
        return
    r = run_jobs([{"name": "go module", "framework": "go", "timeout": "180s", "files": GO_MODULE}])
    ours = {c["name"]: c["status"] for c in r["go module"]["cases"]}
    d = tempfile.mkdtemp(prefix="testfleet-go-")
    for path, text in GO_MODULE.items():
        with open(os.path.join(d, path), "w") as f:
            f.write(text)
    env = dict(os.environ, GOCACHE=os.path.join(d, ".cache"), GOPATH=os.path.join(d, ".gopath"),
               GOTOOLCHAIN="local", GOPROXY="off", GOFLAGS="-mod=mod")
    own = subprocess.run([go, "test", "-json", "./..."], cwd=d, capture_output=True, text=True, env=env, timeout=300)
    theirs = {}
    for line in own.stdout.splitlines():
        ev = json.loads(line)
        if ev.get("Test") and ev["Action"] in ("pass", "fail", "skip"):
            theirs[ev["Test"]] = {"pass": "PASSED", "fail": "FAILED", "skip": "SKIPPED"}[ev["Action"]]
    shutil.rmtree(d, ignore_errors=True)
    check(ours == theirs and len(ours) == 3, f"same verdicts per test: ours {ours}, go test {theirs}")
    check(r["go module"]["verdict"] == "FAILED", "the job fails because one test does")


def case_bwrap_fails():
    print("bubblewrap failing to set up is ERROR (transient), not a test failure")
    d = job_dir()
    fake = os.path.join(d, "bwrap")
    # With --zygotes the zygote's bubblewrap fails too: the worker then runs every job cold, and that fails.
    with open(fake, "w") as f:
        f.write("#!/bin/sh\ncase \"$*\" in *stage-runner*|*zygote.py*) echo 'bwrap: Can not mount proc: simulated' >&2; "
                "exit 1;; esac\nexec /usr/bin/bwrap \"$@\"\n")
    os.chmod(fake, 0o755)
    r = run_jobs([sh("any", "true")], "--bwrap", fake)
    check(r["any"]["verdict"] == "ERROR" and r["any"]["stage"] == "sandbox",
          f"ERROR at stage sandbox ({r['any']['verdict']}/{r['any']['stage']}: {r['any']['error'][:80]})")
    shutil.rmtree(d, ignore_errors=True)


def case_frameworks():
    print("normal Python, Node and Go programs still work inside")
    go = "/usr/local/go/bin/go"
    tests = [
        {"name": "pytest", "framework": "pytest", "files": {"test_x.py": "def test_x():\n    assert sum(range(4)) == 6\n"}},
        {"name": "node", "framework": "node",
         "files": {"x.test.js": "require('node:test')('t', () => require('node:assert').ok(true));\n"}},
    ]
    if os.path.exists(go):
        tests.append(sh("go", f"{go} run main.go", timeout="120s",
                        files={"main.go": "package main\nimport \"fmt\"\nfunc main() { fmt.Println(\"go ok\") }\n"},
                        env={"GOCACHE": "/tmp/gocache", "GOPATH": "/tmp/gopath", "GOTOOLCHAIN": "local"}))
    r = run_jobs(tests)
    for name, res in r.items():
        check(res["verdict"] == "PASSED", f"{name}: {res['verdict']} {res['error'][:60]} {res['stderrTail'][-200:]!r}")
    if not os.path.exists(go):
        print("  (go not installed at /usr/local/go: Go case not run)")


# Host settings a test must not reach. Each is read and written back with the value it already has, so the check
# never changes the host even where containment fails.
# (kernel/pid_max is left out: since Linux 6.14 it belongs to the sandbox's own pid namespace.)
SYSCTLS = ["kernel/core_pattern", "kernel/panic_on_oops", "kernel/hung_task_panic", "vm/overcommit_memory",
           "fs/file-max", "kernel/poweroff_cmd", "kernel/panic", "kernel/modprobe"]
SAME_VALUE_WRITES = (
    "import os\n"
    f"files = {SYSCTLS!r}\n"
    "present = [f for f in files if os.path.exists('/proc/sys/' + f)]\n"
    "writable = []\n"
    "for f in present:\n"
    "    value = open('/proc/sys/' + f).read()\n"
    "    try:\n"
    "        with open('/proc/sys/' + f, 'w') as h:\n"
    "            h.write(value)\n"
    "        writable.append(f)\n"
    "    except OSError:\n"
    "        pass\n"
    "for path in ['/proc/sys/vm/drop_caches', '/proc/sysrq-trigger']:\n"  # opened for writing, nothing written
    "    try:\n"
    "        os.close(os.open(path, os.O_WRONLY))\n"
    "        writable.append(path)\n"
    "    except OSError:\n"
    "        pass\n"
    "print('present', len(present), 'writable', writable)\n"
    "raise SystemExit(1 if writable else 0)\n")


def case_host_root():
    print("host root: the job's uid, /proc/sys, setuid files, the output folder")
    r = run_jobs([
        sh("same-value sysctl writes", "python3 /work/w.py", files={"w.py": SAME_VALUE_WRITES}),
        sh("host root unmapped", "test \"$(stat -c %u /usr)\" = 65534 && test \"$(id -u)\" = 1000"),
    ])
    w = r["same-value sysctl writes"]
    present = int(w["stdoutTail"].split()[1]) if w["stdoutTail"].startswith("present") else 0
    check(w["verdict"] == "PASSED" and present >= 6,
          f"no host sysctl is writable, {present} of {len(SYSCTLS)} tried ({w['verdict']}: {w['stdoutTail'].strip()})")
    check(r["host root unmapped"]["verdict"] == "PASSED",
          f"the host's root is not mapped inside (files of root show as 65534) ({r['host root unmapped']['verdict']})")

    # Seen from the host, a job's processes run as neither root nor the worker's uid.
    uids = []

    def watch():
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not uids:
            for pid in survivors(MARKER + "uid2"):
                with open(f"/proc/{pid}/status") as f:
                    uids.extend(int(line.split()[1]) for line in f if line.startswith("Uid:"))
            time.sleep(0.05)
    t = threading.Thread(target=watch)
    t.start()
    run_jobs([sh("host uid 2", f"{sleeper('uid2')} & sleep 2; echo done")])
    t.join()
    worker_uid = pwd.getpwnam(ARGS.as_user).pw_uid if ARGS.as_user else os.geteuid()
    if ARGS.as_user:
        check(uids and all(u == worker_uid for u in uids), f"jobs run as the worker's own unprivileged uid ({uids})")
    else:
        check(uids and all(u not in (0, worker_uid) and u >= 1000 for u in uids),
              f"a job's process runs on the host as a uid of its own, not root ({uids})")

    found = {"setuid": [], "world-writable": [], "files": 0, "bytes": 0}

    def inspect(work):
        for root, dirs, files in os.walk(work):
            for name in dirs + files:
                st = os.lstat(os.path.join(root, name))
                found["files"] += 1
                found["bytes"] += st.st_size
                if st.st_mode & (stat.S_ISUID | stat.S_ISGID):
                    found["setuid"].append(os.path.join(root, name))
                if st.st_mode & stat.S_IWOTH and not stat.S_ISLNK(st.st_mode):
                    found["world-writable"].append(os.path.join(root, name))
    r = run_worker("--run-suite", [
        sh("plant setuid", "cp /usr/bin/id $TF_OUT/x && chmod 4755 $TF_OUT/x && cp /usr/bin/id /work/y && "
                           "chmod 6755 /work/y && ls -l $TF_OUT/x"),
        sh("fill output", "python3 -c \"import os\nfor i in range(200000):\n  open(os.environ['TF_OUT'] + '/f%d' % i, "
                          "'w').close()\"; dd if=/dev/zero of=$TF_OUT/big bs=1M count=600 2>/dev/null; exit 0",
           memory="128Mi", timeout="60s"),
    ], "--keep-workspaces", "--workspace-size", "64Mi", inspect=inspect)
    check(r["plant setuid"]["verdict"] == "PASSED", f"the job made its setuid files inside ({r['plant setuid']['verdict']})")
    check(not found["setuid"], f"no setuid or setgid file reached the worker's disk ({found['setuid'][:3]})")
    check(not found["world-writable"], f"nothing world-writable on the worker's disk ({found['world-writable'][:3]})")
    check(found["files"] < 100 and found["bytes"] < 4 << 20,
          f"200,000 files and 600 MiB written to $TF_OUT left {found['files']} entries, {found['bytes']} bytes on the "
          f"worker's disk ({r['fill output']['verdict']})")


def host_address():
    """An IPv4 address of this machine other than loopback: what the internet looks like from a job."""
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"], capture_output=True, text=True)
    for line in out.stdout.splitlines():
        return line.split()[3].split("/")[0]
    return None


def case_network():
    print("network: true reaches out, never the host's loopback or abstract sockets")
    listeners = {}
    for where in ["127.0.0.1", host_address()]:
        if where:
            srv = socket.socket()
            srv.bind((where, 0))
            srv.listen(8)
            srv.settimeout(0.2)
            listeners[where] = srv
    abstract = socket.socket(socket.AF_UNIX)
    abstract.bind(f"\0{MARKER}")
    abstract.listen(8)
    abstract.settimeout(0.2)
    lo_port = listeners["127.0.0.1"].getsockname()[1]
    probe = (
        "import socket, sys\n"
        "def tcp(host, port):\n"
        "    try:\n"
        "        socket.create_connection((host, port), timeout=3).close(); return 'open'\n"
        "    except OSError as e:\n"
        "        return type(e).__name__\n"
        "def unix(name):\n"
        "    s = socket.socket(socket.AF_UNIX)\n"
        "    try:\n"
        "        s.connect('\\0' + name); return 'open'\n"
        "    except OSError as e:\n"
        "        return type(e).__name__\n"
        "def dns(name):\n"
        "    try:\n"
        "        return socket.gethostbyname(name)\n"
        "    except OSError as e:\n"
        "        return 'dns-' + type(e).__name__\n"
        "args = sys.argv[1:]\n"
        "out = {'loopback': tcp('127.0.0.1', int(args[0])), 'host-gateway': tcp('10.0.2.2', int(args[0])),\n"
        "       'abstract': unix(args[1]), 'dns': dns('pypi.org')}\n"
        "if len(args) > 3: out['outbound'] = tcp(args[2], int(args[3]))\n"
        "print(out)\n")
    argv = f"{lo_port} {MARKER}"
    outside = host_address()
    if outside:
        argv += f" {outside} {listeners[outside].getsockname()[1]}"
    tests = [sh("network job", f"python3 /work/p.py {argv}", network=True, files={"p.py": probe}),
             sh("no network", f"python3 /work/p.py {argv}", files={"p.py": probe})]
    r = run_jobs(tests)
    accepted = []
    for srv in [listeners["127.0.0.1"], abstract]:
        try:
            while True:
                accepted.append(srv.accept())
        except OSError:
            pass
    if ARGS.as_user:
        n = r["network job"]
        check(n["verdict"] == "FAILED" and "network" in n["error"],
              f"where the worker cannot give a network, network: true fails and says why ({n['verdict']}: {n['error'][:90]})")
    else:
        seen = eval(r["network job"]["stdoutTail"].strip() or "{}")  # the probe prints a dict of strings
        check(seen.get("loopback") != "open" and seen.get("host-gateway") != "open",
              f"the host's loopback is unreachable ({seen.get('loopback')}, via 10.0.2.2 {seen.get('host-gateway')})")
        check(seen.get("abstract") not in (None, "open"), f"host abstract sockets unreachable ({seen.get('abstract')})")
        check(seen.get("dns", "dns-").count(".") == 3, f"DNS works ({seen.get('dns')})")
        if outside:
            check(seen.get("outbound") == "open", f"outbound connections work (to {outside}: {seen.get('outbound')})")
        else:
            check(False, "this machine has a non-loopback address to test outbound connections with")
        missing = run_jobs([sh("no stack", "true", network=True)], "--slirp4netns", "/nonexistent/slirp4netns")
        m = missing["no stack"]
        check(m["verdict"] == "FAILED" and "slirp4netns" in m["error"],
              f"without the network stack: FAILED with a reason, no host network ({m['verdict']}: {m['error'][:80]})")
    nn = eval(r["no network"]["stdoutTail"].strip() or "{}")
    check(nn.get("dns", "").startswith("dns-") and nn.get("loopback") != "open",
          f"without network: true no DNS and no host loopback ({nn})")
    check(not accepted, f"no connection reached the host's loopback or abstract socket ({len(accepted)})")
    for srv in list(listeners.values()) + [abstract]:
        srv.close()


def job_record(name, command, **fields):
    """A raw Job record as it would arrive from Kafka (protobuf JSON)."""
    job = {"schemaVersion": 1, "runId": "hostile", "jobId": name, "attempt": 1, "framework": "SHELL", "name": name,
           "command": command, "timeoutMs": 30000}
    job.update(fields)
    return job


def case_untrusted_job():
    print("untrusted job records: ids as paths, huge limits, environment, bundle URLs")
    hits = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(403)
            self.end_headers()

        def log_message(self, *a):
            pass
    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    escape = f"/tmp/{MARKER}-abs/x"
    jobs = [
        job_record("id as absolute path", "true", jobId=escape),
        job_record("id with dot-dots", "true", jobId=f"../../../../{MARKER}-up"),
        job_record("memory 1024Gi", "python3 -c 'b = bytearray(700 << 20); print(len(b))'",
                   limits={"memoryBytes": str(1 << 40)}),
        job_record("cpu 2^32-1", "true", limits={"cpuMillis": 4294967295, "maxPids": 4294967295},
                   timeoutMs=4294967295, reruns=30),
        job_record("10,000 variables", "true", env={f"V{i}": "x" for i in range(10000)}),
        job_record("3 MiB variable", "true", env={"BIG": "x" * (3 << 20)}),
        job_record("bundle from loopback", "true",
                   bundle={"url": f"http://127.0.0.1:{server.server_port}/secret", "sha256": "0" * 64}),
    ]
    r = run_worker("--run-jobs", jobs, "--memory", "256Mi", "--max-memory", "512Mi", "--max-cpus", "1",
                   "--max-timeout", "10m", "--max-reruns", "3", timeout=400)
    server.shutdown()
    check(not os.path.exists(os.path.dirname(escape)), f"a job id that is an absolute path made no folder there")
    cg = [c for c in os.listdir("/sys/fs/cgroup") if os.path.isdir(f"/sys/fs/cgroup/{c}")]
    left = [f"/sys/fs/cgroup/{c}/{MARKER}-up" for c in cg if os.path.exists(f"/sys/fs/cgroup/{c}/{MARKER}-up")]
    check(not left and not os.path.exists(f"/{MARKER}-up"), f"a job id with '..' left no folder outside ({left})")
    for name in ["id as absolute path", "id with dot-dots"]:
        check(r[name]["verdict"] == "PASSED", f"{name}: runs ({r[name]['verdict']}: {r[name]['error'][:60]})")
    mem = r["memory 1024Gi"]
    check(mem["verdict"] == "OOM" or ARGS.as_user, f"a job asking for 1024Gi is held to --max-memory 512Mi ({mem['verdict']})")
    check(any("memory lowered" in n for n in mem.get("notes", [])), f"its result says so ({mem.get('notes')})")
    cpu = r["cpu 2^32-1"]
    notes = " ".join(cpu.get("notes", []))
    check(cpu["verdict"] == "PASSED" and all(w in notes for w in ["cpu lowered", "max_pids lowered", "timeout lowered",
                                                                  "reruns lowered from 30"]),
          f"CPU, pids, timeout and reruns at 2^32-1 / 30 are lowered, not overflowed ({cpu['verdict']}: {notes[:160]})")
    for name in ["10,000 variables", "3 MiB variable"]:
        res = r[name]
        check(res["verdict"] == "FAILED" and "environment" in res["error"],
              f"{name}: FAILED with a reason, not retried as ERROR ({res['verdict']}: {res['error'][:80]})")
    b = r["bundle from loopback"]
    check(b["verdict"] == "FAILED" and "origin" in b["error"] and not hits,
          f"a bundle URL on the worker's loopback is not fetched ({b['verdict']}, {len(hits)} requests: {b['error'][:70]})")


PASSING_JUNIT = '<testsuite tests="1"><testcase classname="test_x" name="test_x"/></testsuite>\n'
# Run detached by the test, it waits until the test stage has ended, then rewrites the report and writes
# "test exit 0" into every fd 4 it can open (the stage runner's status pipe is its fd 4).
FORGER = ("sleep 0.5\n"
          "cat /work/pass.xml > \"$TF_OUT/report\" && echo report rewritten\n"
          "for f in /proc/[0-9]*/fd/4; do echo 'test exit 0' > \"$f\" && echo \"wrote $f\"; done 2>/dev/null\n")


def case_forgery():
    print("forging the verdict: the stage runner's pipes, the report after the test, io_uring")
    files = {"forge.sh": FORGER, "pass.xml": PASSING_JUNIT}
    r = run_jobs([
        sh("status pipe after the test", "setsid sh /work/forge.sh & exit 1", teardown="sleep 1.5", files=files),
        {"name": "report rewritten later", "framework": "pytest", "teardown": "sleep 1.5",
         "files": {**files, "test_x.py": "import subprocess\n\ndef test_x():\n"
                                         "    subprocess.Popen(['setsid', 'sh', '/work/forge.sh'])\n"
                                         "    assert False\n"}},
        sh("io_uring", "python3 -c \"import ctypes, os; libc = ctypes.CDLL(None, use_errno=True); "
                       "buf = ctypes.create_string_buffer(120); r = libc.syscall(425, 4, buf); "
                       "print(r, os.strerror(ctypes.get_errno())); raise SystemExit(0 if r == -1 else 1)\""),
    ])
    sp = r["status pipe after the test"]
    check(sp["verdict"] == "FAILED", f"a leftover process cannot write the stage runner's status pipe "
                                     f"({sp['verdict']}: {sp['stageReport'] if 'stageReport' in sp else sp['error'][:60]})")
    rr = r["report rewritten later"]
    check(rr["verdict"] == "FAILED", f"a report rewritten by a leftover process after the test is not read "
                                     f"({rr['verdict']})")
    io = r["io_uring"]
    check(io["verdict"] == "PASSED", f"io_uring_setup is refused ({io['verdict']}: {io['stdoutTail'].strip()})")

CASES = {"resources": case_resources, "survivors": case_survivors, "worker_killed": case_worker_killed,
         "isolation": case_isolation, "artifacts": case_artifacts, "go": case_go_adapter, "bwrap_fails": case_bwrap_fails, "frameworks": case_frameworks,
         "host_root": case_host_root, "network": case_network, "untrusted_job": case_untrusted_job,
         "forgery": case_forgery}


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--build", required=True)
    p.add_argument("--as-user", help="run the worker as this (non-root) user, without cgroups")
    p.add_argument("--zygotes", action="store_true",
                   help="run the worker with --zygotes and shell jobs as pytest jobs (forked from the zygote)")
    p.add_argument("cases", nargs="*", default=list(CASES))
    ARGS = p.parse_args()
    for name in ARGS.cases:
        try:
            CASES[name]()
        except Exception as e:
            FAILURES.append(f"{name}: {e!r}")
            print(f"  FAIL {name}: {e!r}")
    print(f"{len(FAILURES)} failed checks")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
