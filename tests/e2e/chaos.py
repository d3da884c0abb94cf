#!/usr/bin/env python3
"""Chaos test: many jobs while workers, the aggregator and the broker are killed and restarted, sandbox set-ups
fail at random and poison records arrive. At the end every job must have exactly one final verdict, nothing lost,
nothing doubled.

  tests/e2e/chaos.py --build build --source . [--jobs 2000] [--workers 3]

The short version (300 jobs) runs in `make test`; the long one (2,000+) is run by hand.
"""
import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import fleet_e2e  # noqa: E402
from fleet_e2e import BROKERS, Fleet, check, free_port, trivial_suite  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", required=True)
    p.add_argument("--source", required=True)
    p.add_argument("--jobs", type=int, default=300)
    p.add_argument("--workers", type=int, default=3)
    p.add_argument("--kill-every", type=float, default=4.0, help="seconds between worker kills")
    p.add_argument("--fault-rate", type=float, default=0.1)
    p.add_argument("--broker-restarts", type=int, default=1,
                   help="restarts of the broker (scripts/kafka.sh stop or kill, then start), spread over 20-90%% of "
                        "the run")
    p.add_argument("--broker-stop", choices=["kill", "stop"], default="kill",
                   help="how the broker goes down: kill (SIGKILL, the default) or stop (a controlled shutdown). "
                        "Kafka 4.4's controlled shutdown of a single broker can leave a transaction that its "
                        "coordinator completed without the partition's marker (a hanging transaction: the results "
                        "partition's last stable offset never moves again), seen twice here; see tests/README.md")
    p.add_argument("--seed", type=int, default=int(time.time()))
    p.add_argument("--load", type=int, default=0,
                   help="CPU hogs (stress-ng) running through the whole run: 2 per core loads a machine well past full")
    p.add_argument("--sigstop", type=float, default=0,
                   help="seconds one worker is stopped (SIGSTOP, then SIGCONT) mid-run; past the 10 s session timeout "
                        "the group drops it while its job runs")
    args = p.parse_args()
    fleet_e2e.ARGS = argparse.Namespace(build=os.path.abspath(args.build), source=os.path.abspath(args.source))
    rng = random.Random(args.seed)
    print(f"chaos: {args.jobs} jobs, {args.workers} workers, seed {args.seed}")
    stats = {"worker_kills": 0, "worker_starts": 0, "aggregator_restarts": 0, "broker_restarts": 0, "broker_sigkills": 0, "poison": 0,
             "sigstops": 0}
    hogs = None
    if args.load:
        hogs = subprocess.Popen(["stress-ng", "--cpu", str(args.load), "--timeout", "3600s", "--quiet"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(f"chaos: {args.load} CPU hogs (stress-ng) run throughout")
    worker_flags = ["--inject-sandbox-faults", str(args.fault_rate), "--retry-delays", "1s,2s,3s",
                    "--max-attempts", "4"]
    with Fleet("chaos") as fleet:
        port = free_port()

        def start_aggregator():
            fleet.procs.pop("aggregator", None)
            log = open(os.path.join(fleet.dir, "aggregator.log"), "a")
            proc = subprocess.Popen([fleet.bin("testfleet-aggregator"), "--brokers", BROKERS, "--topic-prefix",
                                     fleet.prefix, "--db", os.path.join(fleet.dir, "results.db"), "--port", str(port)],
                                    stdout=subprocess.PIPE, stderr=log, text=True)
            line = proc.stdout.readline()
            assert line.startswith("listening"), line
            fleet.port = port
            fleet.procs["aggregator"] = proc

        start_aggregator()
        names = [f"w{i}" for i in range(args.workers)]
        for n in names:
            fleet.start_worker(n, 2, *worker_flags)
            stats["worker_starts"] += 1
        suite = trivial_suite(fleet.dir, args.jobs, "sleep 0.05")
        sub = fleet.submit_async(suite, "--wait", "--stall-timeout", "3m", "--deadline", "30m")
        run_id = sub.stdout.readline().strip()
        stop = threading.Event()

        def done():
            return fleet.jobs_done(run_id)

        stopped = {}  # the worker under SIGSTOP: name, proc, until

        def chaos():
            next_kill = time.monotonic() + args.kill_every
            aggregator_at, sigstop_at = args.jobs * 0.3, args.jobs * 0.4
            n = args.broker_restarts
            broker_at = [args.jobs * 0.55] if n == 1 else [args.jobs * (0.2 + 0.7 * i / max(n - 1, 1)) for i in range(n)]
            while not stop.is_set():
                time.sleep(0.2)
                progress = done()
                if time.monotonic() >= next_kill:
                    victim = rng.choice([n for n in names if n != stopped.get("name")])
                    fleet.procs[victim].send_signal(signal.SIGKILL)
                    fleet.procs[victim].wait()
                    stats["worker_kills"] += 1
                    # Half the time the same id comes back (fencing its dead self), half a new one joins.
                    new = victim if rng.random() < 0.5 else f"w{stats['worker_starts']}"
                    names[names.index(victim)] = new
                    fleet.start_worker(new, 2, *worker_flags)
                    stats["worker_starts"] += 1
                    next_kill = time.monotonic() + args.kill_every
                if progress >= aggregator_at and not stats["aggregator_restarts"]:
                    fleet.procs["aggregator"].send_signal(signal.SIGKILL)
                    fleet.procs["aggregator"].wait()
                    start_aggregator()
                    stats["aggregator_restarts"] += 1
                if args.sigstop and progress >= sigstop_at and not stats["sigstops"]:
                    # The other faults go on meanwhile; the stopped worker is spared from kills until it continues,
                    # and its jobs go on running in their sandboxes.
                    stopped["name"] = rng.choice(names)
                    stopped["proc"] = fleet.procs[stopped["name"]]
                    stopped["until"] = time.monotonic() + args.sigstop
                    stopped["proc"].send_signal(signal.SIGSTOP)
                    stats["sigstops"] += 1
                if stopped and time.monotonic() >= stopped["until"]:
                    stopped["proc"].send_signal(signal.SIGCONT)
                    stopped.clear()
                if stats["broker_restarts"] < len(broker_at) and progress >= broker_at[stats["broker_restarts"]]:
                    kafka = os.path.join(args.source, "scripts", "kafka.sh")
                    stopped_how = subprocess.run([kafka, args.broker_stop], check=True, capture_output=True,
                                                 text=True, timeout=120).stdout
                    if "SIGKILL" in stopped_how:
                        stats["broker_sigkills"] += 1
                    time.sleep(2)
                    subprocess.run([kafka, "start"], check=True, capture_output=True, timeout=120)
                    stats["broker_restarts"] += 1
                if progress >= args.jobs * 0.2 and stats["poison"] < 3:
                    subprocess.run(["kcat", "-b", BROKERS, "-P", "-t", f"{fleet.prefix}.jobs", "-k",
                                    f"poison-{stats['poison']}"], input=f"garbage {stats['poison']}", text=True,
                                   timeout=30, capture_output=True)
                    stats["poison"] += 1

        t = threading.Thread(target=chaos, daemon=True)
        t.start()
        try:
            out, err = sub.communicate(timeout=1800)
        finally:
            stop.set()
            t.join(timeout=120)
            if stopped:
                stopped["proc"].send_signal(signal.SIGCONT)
            if hogs:
                hogs.kill()
                hogs.wait()
        check(sub.returncode in (0, 1), f"the run completed (exit {sub.returncode}; {err.strip()[-300:]})")

        run = json.loads(fleet.api(f"/v1/runs/{run_id}"))
        final_rows, rows = fleet.stored_results(run_id)
        db = sqlite3.connect(os.path.join(fleet.dir, "results.db"))
        retries = db.execute("SELECT COUNT(*) FROM results WHERE run_id = ? AND final = 0", (run_id,)).fetchone()[0]
        errors = {r[0] for r in db.execute(
            "SELECT job_id FROM results WHERE run_id = ? AND final = 1 AND verdict = 8", (run_id,))}
        db.close()
        manifest_ids = {j["job_id"] for j in run["jobs"]}
        lost = args.jobs - len(final_rows)
        doubled_final = sum(1 for _, n in final_rows if n > 1)
        committed = fleet.committed_results()
        doubled_on_topic = len(committed) - rows
        letters = json.loads(subprocess.run(
            [fleet.bin("testfleet"), "--brokers", BROKERS, "--topic-prefix", fleet.prefix, "dlq", "list", "--json"],
            capture_output=True, text=True, timeout=120).stdout or "[]")
        exhausted = {d["key"].split("/", 1)[1] for d in letters if "attempts exhausted" in d["reason"]}
        poison = [d for d in letters if "does not decode" in d["reason"]]
        check(len(manifest_ids) == args.jobs, f"every job has a final verdict in the report ({len(manifest_ids)})")
        check(lost == 0, f"lost = {lost}")
        check(doubled_final == 0, f"jobs with more than one final result = {doubled_final}")
        check(doubled_on_topic == 0,
              f"read_committed results topic holds {len(committed)} records for {rows} stored (run, job, attempt)")
        check(exhausted == errors, f"dead letters for exhausted jobs = final ERROR jobs ({len(exhausted)})")
        check(len(poison) == stats["poison"], f"every poison record is a dead letter ({len(poison)}/{stats['poison']})")
        print(f"chaos: jobs {args.jobs}, worker kills {stats['worker_kills']}, worker starts {stats['worker_starts']}, "
              f"aggregator restarts {stats['aggregator_restarts']}, broker restarts {stats['broker_restarts']} "
              f"(SIGKILLed {stats['broker_sigkills']}), "
              f"sigstops {stats['sigstops']} ({args.sigstop:.0f} s), cpu hogs {args.load}, "
              f"retried attempts {retries}, final errors {len(errors)}, poison {len(poison)}, "
              f"lost {lost}, doubled {doubled_final + max(doubled_on_topic, 0)}")
    print(f"{len(fleet_e2e.FAILURES)} failed checks")
    return 1 if fleet_e2e.FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
