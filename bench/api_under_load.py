#!/usr/bin/env python3
"""The aggregator's API under hostile load: prints what the issue's reproductions measure.

  bench/api_under_load.py --build build [--slow 200] [--uploads 6] [--upload-mib 200]

1. /healthz latency (20 requests, 10 s timeout each) while --slow connections are open: half idle, half
   trickling header bytes (one byte per connection every 0.5 s).
2. A second aggregator started on the same port: does it fail at start, or share the port?
3. The aggregator's resident memory (VmRSS, sampled every 50 ms) while --uploads blobs of --upload-mib MiB are
   PUT at once with curl (each streamed from a file).
Starts its own aggregator on a fresh topic prefix (the local broker must be up); --build may name an older build
to compare.
"""
import argparse
import hashlib
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import fleet_e2e  # noqa: E402


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def healthz_under_slow_clients(port, slow):
    conns, trickling = [], []
    for i in range(slow):
        c = socket.create_connection(("127.0.0.1", port))
        if i % 2:
            c.sendall(b"GET /healthz HTTP/1.1\r\nX-Slow: ")
            trickling.append(c)
        conns.append(c)
    stop = threading.Event()

    def trickle():
        while not stop.wait(0.5):
            for c in trickling:
                try:
                    c.send(b"a")
                except OSError:
                    pass
    t = threading.Thread(target=trickle)
    t.start()
    latencies, failures = [], 0
    for _ in range(20):
        start = time.monotonic()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
                r.read()
            latencies.append(time.monotonic() - start)
        except Exception:
            failures += 1
        time.sleep(0.1)
    stop.set()
    t.join()
    for c in conns:
        c.close()
    if latencies:
        print(f"/healthz with {slow} slow connections: {len(latencies)}/20 answered, median "
              f"{statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms; {failures} timed out")
    else:
        print(f"/healthz with {slow} slow connections: 0/20 answered within 10 s")


def second_on_same_port(fleet):
    db = os.path.join(fleet.dir, "second.db")
    p = subprocess.Popen([fleet.bin("testfleet-aggregator"), "--brokers", fleet_e2e.BROKERS, "--topic-prefix",
                          fleet.prefix + "-second", "--db", db, "--port", str(fleet.port)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        p.wait(timeout=5)
        last = [l for l in p.stderr.read().splitlines() if l.strip()][-1:]
        print(f"second aggregator on port {fleet.port}: exited {p.returncode}: {last[0] if last else ''}")
    except subprocess.TimeoutExpired:
        print(f"second aggregator on port {fleet.port}: still running (it shares the port)")
        p.terminate()
        p.wait()


def rss_during_uploads(fleet, pid, uploads, mib):
    files = []
    for i in range(uploads):
        path = os.path.join(fleet.dir, f"blob-{i}")
        h = hashlib.sha256()
        with open(path, "wb") as f:
            for _ in range(mib):
                block = os.urandom(1 << 20)
                h.update(block)
                f.write(block)
        files.append((path, h.hexdigest()))
    samples, done = [], threading.Event()

    def sample():
        while not done.is_set():
            samples.append(rss_mib(pid))
            time.sleep(0.05)
    before = rss_mib(pid)
    t = threading.Thread(target=sample)
    t.start()
    start = time.monotonic()
    procs = [subprocess.Popen(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-T", path,
                               f"http://127.0.0.1:{fleet.port}/v1/blobs/{sha}"], stdout=subprocess.PIPE, text=True)
             for path, sha in files]
    codes = [p.communicate()[0] for p in procs]
    elapsed = time.monotonic() - start
    done.set()
    t.join()
    print(f"{uploads} concurrent uploads of {mib} MiB: HTTP {','.join(codes)} in {elapsed:.1f} s; aggregator RSS "
          f"{before:.0f} MiB before, peak {max(samples):.0f} MiB, {rss_mib(pid):.0f} MiB after")
    for path, _ in files:
        os.remove(path)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default="build")
    p.add_argument("--slow", type=int, default=200)
    p.add_argument("--uploads", type=int, default=6)
    p.add_argument("--upload-mib", type=int, default=200)
    args = p.parse_args()
    fleet_e2e.ARGS = argparse.Namespace(build=os.path.abspath(args.build), source=os.getcwd())
    with fleet_e2e.Fleet("apiload") as fleet:
        agg = fleet.start_aggregator()
        healthz_under_slow_clients(fleet.port, args.slow)
        second_on_same_port(fleet)
        rss_during_uploads(fleet, agg.pid, args.uploads, args.upload_mib)


if __name__ == "__main__":
    main()
