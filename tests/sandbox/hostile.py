#!/usr/bin/env python3
"""Hostile jobs through the real sandbox (testfleet-worker --run-suite: bubblewrap, cgroups, seccomp; no Kafka).

Each case runs a real hostile program and checks both its verdict and that it was contained: the host, the
worker and other jobs are untouched. Run: hostile.py --build build [case ...]
"""
import argparse
import json
import os
import shutil
import signal
import socket
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


def worker_bin():
    return os.path.join(ARGS.build, "worker", "testfleet-worker")


def run_jobs(tests, *flags, env=None, timeout=300):
    """Runs the tests (suite entries) locally in the sandbox; returns {name: result}."""
    d = tempfile.mkdtemp(prefix="testfleet-hostile-")
    try:
        suite = os.path.join(d, "suite.yaml")
        with open(suite, "w") as f:
            json.dump({"name": "hostile", "tests": tests}, f)  # JSON is YAML
        p = subprocess.run([worker_bin(), "--run-suite", suite, "--work-dir", os.path.join(d, "work"),
                            "--log-level", "warn", *flags], capture_output=True, text=True, timeout=timeout,
                           env=env)
        results = {}
        for line in p.stdout.splitlines():
            r = json.loads(line)
            results[r["name"]] = r
        missing = [t["name"] for t in tests if t["name"] not in results]
        assert not missing, f"no result for {missing}; stderr: {p.stderr[-2000:]}"
        return results
    finally:
        shutil.rmtree(d, ignore_errors=True)


def survivors(pattern):
    out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
    return [int(x) for x in out.stdout.split()]


def sh(name, command, **extra):
    return {"name": name, "framework": "shell", "command": command, "timeout": extra.pop("timeout", "30s"), **extra}


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
    time.sleep(0.3)
    check(not survivors(MARKER), f"no process of any of these jobs survived ({survivors(MARKER)})")


def case_worker_killed():
    print("worker SIGKILLed mid-job: the job dies with it")
    d = tempfile.mkdtemp(prefix="testfleet-hostile-")
    suite = os.path.join(d, "suite.yaml")
    with open(suite, "w") as f:
        json.dump({"name": "k", "tests": [sh("long", sleeper("k"), timeout="10m")]}, f)
    p = subprocess.Popen([worker_bin(), "--run-suite", suite, "--work-dir", os.path.join(d, "w"), "--log-level", "warn"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not survivors(MARKER + "k") and time.monotonic() < deadline:
        time.sleep(0.05)
    check(bool(survivors(MARKER + "k")), "the job started")
    p.send_signal(signal.SIGKILL)
    p.wait()
    deadline = time.monotonic() + 5
    while survivors(MARKER + "k") and time.monotonic() < deadline:
        time.sleep(0.05)
    check(not survivors(MARKER + "k"), "the job's processes died with the worker")
    shutil.rmtree(d, ignore_errors=True)


def case_isolation():
    print("isolation: network, host files, worker env, read-only system, other jobs")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    port = server.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
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
        sh("write /proc/sys", "echo 1 > /proc/sys/kernel/sysrq"),
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
    d = tempfile.mkdtemp(prefix="testfleet-hostile-")
    fake = os.path.join(d, "bwrap")
    with open(fake, "w") as f:
        f.write("#!/bin/sh\ncase \"$*\" in *stage-runner*) echo 'bwrap: Can not mount proc: simulated' >&2; exit 1;; esac\n"
                "exec /usr/bin/bwrap \"$@\"\n")
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


CASES = {"resources": case_resources, "survivors": case_survivors, "worker_killed": case_worker_killed,
         "isolation": case_isolation, "artifacts": case_artifacts, "go": case_go_adapter, "bwrap_fails": case_bwrap_fails, "frameworks": case_frameworks}


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--build", required=True)
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
