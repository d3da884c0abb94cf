#!/usr/bin/env python3
"""A realistic multi-file Python suite (50 files, skewed durations) run three ways on this machine, in one go:
plain `pytest`, `pytest -n 2` (pytest-xdist from PyPI), and testfleet with one worker of 2 slots, one sandboxed job
per file — cold, then with history (longest first) — and with files packed into jobs of ~2 s and ~4 s of expected
work, and into 4 shards (isolation per job, not per file). Prints wall times, ratios and makespan against lower
bound.

  bench/python_suite.py --build build [--files 50] [--seed 7] [--zygotes]

--zygotes runs the worker with --zygotes: every per-file job is a fork of the warm pytest zygote.

Needs the local broker. pytest-xdist and execnet are installed with pip into a cache folder (no dependencies, so the
same Debian pytest runs in every mode).
"""
import argparse
import json
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import fleet_e2e  # noqa: E402

CACHE = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "testfleet", "xdist")


def write_suite(root, files, seed):
    """Files whose durations follow a skewed distribution: a few long, many short, like real suites."""
    rng = random.Random(seed)
    os.makedirs(root, exist_ok=True)
    total = 0.0
    for i in range(files):
        r = rng.random()
        seconds = rng.uniform(2.0, 3.0) if r < 0.06 else rng.uniform(0.6, 1.4) if r < 0.2 else rng.uniform(0.03, 0.3)
        tests = rng.randint(2, 6)
        total += seconds
        body = ["import time", "", "", "def work(seconds):", "    end = time.monotonic() + seconds * 0.2",
                "    while time.monotonic() < end:  # some CPU, like real tests", "        sum(range(1000))",
                "    time.sleep(seconds * 0.8)", ""]
        for t in range(tests):
            body += ["", f"def test_case_{t}():", f"    work({seconds / tests:.4f})", f"    assert {t} + 1 > {t}"]
        with open(os.path.join(root, f"test_module_{i:02d}.py"), "w") as f:
            f.write("\n".join(body) + "\n")
    return total


def timed(cmd, env=None):
    start = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    elapsed = time.monotonic() - start
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    return elapsed


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--files", type=int, default=50)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--zygotes", action="store_true", help="the worker forks pytest jobs from its zygote")
    args = ap.parse_args()
    fleet_e2e.ARGS = argparse.Namespace(build=os.path.abspath(args.build), source=os.getcwd())
    if not os.path.isdir(os.path.join(CACHE, "xdist")):
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", CACHE, "--no-deps", "pytest-xdist",
                        "execnet"], check=True)
    with fleet_e2e.Fleet("pysuite") as fleet:
        root = os.path.join(fleet.dir, "suite")
        work = write_suite(os.path.join(root, "tests"), args.files, args.seed)
        pytest = ["/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", os.path.join(root, "tests")]
        rows = [("pytest (plain)", timed(pytest), "")]
        rows.append(("pytest -n 2 (xdist)", timed(pytest + ["-n", "2"], dict(os.environ, PYTHONPATH=CACHE)), ""))
        with open(os.path.join(root, "suite.yaml"), "w") as f:
            f.write("name: python-bench\ndirectory:\n  root: tests\n  framework: pytest\n  timeout: 5m\n")
        fleet.start_aggregator()
        fleet.start_worker("bench", 2, *(["--zygotes"] if args.zygotes else []))
        warm = fleet.submit(fleet_e2e.trivial_suite(fleet.dir, 2, "true"), "--wait")
        assert warm.returncode == 0, warm.stderr
        variants = {"group2": "  group: 2s\n", "group4": "  group: 4s\n", "shards4": "  shards: 4\n"}
        for name, extra in variants.items():
            with open(os.path.join(root, f"{name}.yaml"), "w") as f:
                f.write("name: python-bench\ndirectory:\n  root: tests\n  framework: pytest\n  timeout: 5m\n" + extra)
        runs = [("testfleet, 2 slots, per file, cold", "suite.yaml"),
                ("testfleet, 2 slots, per file, history", "suite.yaml"),
                ("testfleet, grouped ~2 s, history", "group2.yaml"),
                ("testfleet, grouped ~4 s, history", "group4.yaml"),
                ("testfleet, 4 shards, history", "shards4.yaml")]
        for label, suite_file in runs:
            out = os.path.join(fleet.dir, "run.json")
            start = time.monotonic()
            r = fleet.submit(os.path.join(root, suite_file), "--wait", "--json", out)
            elapsed = time.monotonic() - start
            assert r.returncode == 0, r.stdout + r.stderr
            s = json.load(open(out))["summary"]
            jobs = len(json.load(open(out))["jobs"])
            rows.append((label, elapsed, f"{jobs} jobs; makespan {s['makespan_ms'] / 1000:.2f} s vs lower bound "
                                         f"{s['lower_bound_ms'] / 1000:.2f} s ({s['peak_slots']} slots)"))
    base = rows[1][1]
    print(f"{args.files} files, {work:.1f} s of test work (seed {args.seed}); 2 cores"
          f"{'; worker --zygotes' if args.zygotes else ''}")
    print(f"{'mode':<40}{'wall s':>8}{'vs plain':>10}{'vs -n 2':>9}  schedule")
    for name, t, note in rows:
        print(f"{name:<40}{t:>8.2f}{rows[0][1] / t:>9.2f}x{t / base:>8.2f}x  {note}")


if __name__ == "__main__":
    main()
