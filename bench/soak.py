#!/usr/bin/env python3
"""Soak: N trivial jobs (default 10,000) through one worker and the aggregator; prints both services' resident
memory (RSS) from start to end, so growth without bound shows.

  bench/soak.py --build build [--jobs 10000] [--slots 2] [--batches 5]

The jobs go in several submissions (batches) so RSS can be read between them. Needs the local broker.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import fleet_e2e  # noqa: E402


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default="build")
    p.add_argument("--jobs", type=int, default=10000)
    p.add_argument("--slots", type=int, default=2)
    p.add_argument("--batches", type=int, default=5)
    args = p.parse_args()
    fleet_e2e.ARGS = argparse.Namespace(build=os.path.abspath(args.build), source=os.getcwd())
    with fleet_e2e.Fleet("soak") as fleet:
        agg = fleet.start_aggregator()
        worker = fleet.start_worker("soak", args.slots)
        warm = fleet.submit(fleet_e2e.trivial_suite(fleet.dir, 20, "true"), "--wait")
        assert warm.returncode == 0, warm.stderr
        rows = [("after warm-up (20 jobs)", rss_kib(worker.pid), rss_kib(agg.pid), 0.0)]
        per_batch = args.jobs // args.batches
        suite = fleet_e2e.trivial_suite(fleet.dir, per_batch, "true")
        total = 0
        for b in range(args.batches):
            start = time.monotonic()
            r = fleet.submit(suite, "--wait", "--stall-timeout", "5m", timeout=3600)
            elapsed = time.monotonic() - start
            assert r.returncode == 0, r.stderr[-2000:]
            assert f"{per_batch} total, {per_batch} passed" in r.stdout, r.stdout
            total += per_batch
            rows.append((f"after {total} jobs", rss_kib(worker.pid), rss_kib(agg.pid), per_batch / elapsed))
            print(f"batch {b + 1}: {per_batch} jobs in {elapsed:.1f} s", flush=True)
        print(f"\n{'point':<28}{'worker RSS MiB':>16}{'aggregator RSS MiB':>20}{'jobs/s':>10}")
        for name, w, a, rate in rows:
            print(f"{name:<28}{w / 1024:>16.1f}{a / 1024:>20.1f}{rate:>10.1f}")
        growth_w = (rows[-1][1] - rows[1][1]) / 1024
        growth_a = (rows[-1][2] - rows[1][2]) / 1024
        print(f"growth from the first batch to the last: worker {growth_w:+.1f} MiB, aggregator {growth_a:+.1f} MiB")


if __name__ == "__main__":
    main()
