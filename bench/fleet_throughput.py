#!/usr/bin/env python3
"""N trivial jobs through the real broker, workers and aggregator: jobs per second and submit-to-verdict time.

Usage: bench/fleet_throughput.py --build build [--jobs 200] [--workers 2] [--slots 2] [--repeat 3]
Needs the local broker (scripts/kafka.sh start). Prints one line per run and the median.
"""
import argparse
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import fleet_e2e  # noqa: E402  (the e2e harness: real services on a fresh topic prefix)


def one_run(args, index):
    with fleet_e2e.Fleet(f"bench{index}") as fleet:
        fleet.start_aggregator()
        for w in range(args.workers):
            fleet.start_worker(f"b{w}", slots=args.slots)
        suite = fleet_e2e.trivial_suite(fleet.dir, args.jobs, "true")
        # Warm-up run: group join and transaction coordinator set-up are one-time costs, not throughput.
        warm = fleet.submit(fleet_e2e.trivial_suite(fleet.dir, 4, "true"), "--wait")
        assert warm.returncode == 0, warm.stderr
        start = time.monotonic()
        r = fleet.submit(suite, "--wait")
        elapsed = time.monotonic() - start
        assert r.returncode == 0, r.stderr[-2000:]
        m = re.search(rf"{args.jobs} total, {args.jobs} passed", r.stdout)
        assert m, r.stdout
        return elapsed


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default="build")
    p.add_argument("--jobs", type=int, default=200)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--slots", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    fleet_e2e.ARGS = argparse.Namespace(build=os.path.abspath(args.build), source=os.getcwd())
    times = []
    for i in range(args.repeat):
        t = one_run(args, i)
        times.append(t)
        print(f"run {i + 1}: {args.jobs} jobs in {t:.2f} s submit-to-verdict = {args.jobs / t:.1f} jobs/s", flush=True)
    med = statistics.median(times)
    print(f"median of {args.repeat}: {med:.2f} s submit-to-verdict, {args.jobs / med:.1f} jobs/s "
          f"({args.workers} workers x {args.slots} slots, jobs = sandboxed /bin/true)")


if __name__ == "__main__":
    main()
