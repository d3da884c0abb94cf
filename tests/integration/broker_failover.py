#!/usr/bin/env python3
"""A run on the three-node cluster of scripts/kafka-cluster.sh (RF 3, min.insync.replicas 2) while its nodes die.

Two workers and the aggregator run a suite of short shell jobs (a few fail on purpose). At 10% of the run the active
controller is SIGKILLed; worker w1's id is chosen so that the same node also coordinates its transactions, and the
node leads a third of the partitions. It stays down for --down seconds and is started again. With --outages 2,
w2's transaction coordinator is then stopped the controlled way (SIGTERM) at 50% and started again. Every job must
end with exactly one final result (lost 0, doubled 0, also on the read_committed results topic), results must keep
coming while a node is down, no service may die, and the run must end with the verdict its jobs call for.

  tests/integration/broker_failover.py --build build --source . [--jobs 300] [--outages 2] [--keep-cluster]

The test owns the cluster (ports from TESTFLEET_CLUSTER_PORT, default 39092-39094): it wipes and starts it, and wipes
it again when every check passed; when one failed it stops it and keeps its data (and the services' logs) for a look.
TESTFLEET_RDKAFKA_DEBUG=cgrp,fetch (librdkafka's debug contexts) reaches the services' logs.
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time

import fleet_e2e
from fleet_e2e import Fleet, check, wait_until, write_suite

TRANSACTION_STATE_PARTITIONS = 50  # transaction.state.log.num.partitions, the broker's default


def cluster(*command, timeout=180):
    script = os.path.join(fleet_e2e.ARGS.source, "scripts", "kafka-cluster.sh")
    return subprocess.run([script, *command], check=True, capture_output=True, text=True, timeout=timeout).stdout


def metadata(topic=None):
    out = subprocess.run(["kcat", "-b", fleet_e2e.BROKERS, "-L", "-J", *(["-t", topic] if topic else [])],
                         capture_output=True, text=True, timeout=30)
    return json.loads(out.stdout)


def transaction_leaders():
    """The leader of each __transaction_state partition, once every partition has one."""
    def complete():
        topics = metadata("__transaction_state")["topics"]
        parts = topics[0]["partitions"] if topics else []
        leaders = {p["partition"]: p["leader"] for p in parts if p["leader"] >= 0}
        return leaders if len(leaders) == TRANSACTION_STATE_PARTITIONS else None

    return wait_until(complete, 120, "__transaction_state with a leader for every partition")


def transaction_coordinator(transactional_id, leaders):
    """The node coordinating a transactional id: the leader of its __transaction_state partition, which Kafka picks
    as abs(String.hashCode) mod the partition count."""
    h = 0
    for c in transactional_id:
        h = (31 * h + ord(c)) & 0xFFFFFFFF
    h = h - (1 << 32) if h >= 1 << 31 else h
    return leaders[(0 if h == -(1 << 31) else abs(h)) % TRANSACTION_STATE_PARTITIONS]


def suite_with_failures(directory, jobs, seconds, every):
    """jobs shell jobs of `sleep seconds`; every `every`-th one fails (exit 1)."""
    lines = ["name: failover", "tests:"]
    for i in range(jobs):
        fails = i % every == every - 1
        lines += [f"  - name: t{i:04d}", f"    command: sleep {seconds}{' && false' if fails else ''}"]
    return write_suite(directory, f"failover-{jobs}.yaml", "\n".join(lines) + "\n"), jobs // every


def check_replicated(prefix, within):
    """Every partition of the fleet's topics has 3 replicas, all in sync (a restarted node may need `within` s)."""
    def short():
        topics = [t for t in metadata()["topics"] if t["topic"].startswith(prefix + ".")]
        return len(topics), [f"{t['topic']}[{p['partition']}]" for t in topics for p in t["partitions"]
                             if len(p["replicas"]) != 3 or len(p["isrs"]) != 3]

    deadline = time.monotonic() + within
    count, lagging = short()
    while lagging and time.monotonic() < deadline:
        time.sleep(0.5)
        count, lagging = short()
    check(count >= 5 and not lagging,
          f"the {count} topics the services created have 3 replicas, all in sync {lagging[:5]}")


def run_with_outages(args, began):
    """The run and its checks; failures are recorded in fleet_e2e.FAILURES."""
    stats = {"kills": [], "errors": []}
    with Fleet("failover") as fleet:
        fleet.start_aggregator()
        # w2 first: its transactional producer makes the brokers create __transaction_state. Then the other worker's
        # id is picked so that the active controller also coordinates its transactions: one kill, both roles.
        fleet.start_worker("w2", 2)
        leaders = transaction_leaders()
        victim = int(cluster("controller"))
        w1 = next((f"w1-{i}" for i in range(1000)
                   if transaction_coordinator(f"{fleet.prefix}-worker-w1-{i}", leaders) == victim), None)
        assert w1, f"the active controller (node {victim}) leads no __transaction_state partition"
        fleet.start_worker(w1, 2)
        check_replicated(fleet.prefix, 30)
        suite, failing = suite_with_failures(fleet.dir, args.jobs, args.job_seconds, args.fail_every)
        sub = fleet.submit_async(suite, "--wait", "--stall-timeout", "2m", "--deadline", "10m")
        run_id = sub.stdout.readline().strip()
        finished = threading.Event()

        def done():
            return fleet.jobs_done(run_id)

        def roles(node):
            held = ["active controller"] if int(cluster("controller")) == node else []
            leaders = transaction_leaders()
            for w in (w1, "w2"):
                if transaction_coordinator(f"{fleet.prefix}-worker-{w}", leaders) == node:
                    held.append(f"{w}'s transaction coordinator")
            return held

        def outage(node, how):
            """Kills (SIGKILL) or stops (SIGTERM, controlled shutdown) the node, keeps it down for --down seconds,
            starts it again; records the progress made while it was down."""
            held, before, at = roles(node), done(), time.monotonic()
            cluster(how, str(node))
            print(f"  {how} node {node} ({', '.join(held) or 'partition leader'}) at {before} results, "
                  f"{at - began:.0f} s")
            while time.monotonic() - at < args.down and not finished.is_set():
                time.sleep(0.2)
            during = done()
            cluster("start", str(node))
            print(f"  node {node} back after {time.monotonic() - at:.0f} s, {during} results before its restart")
            stats["kills"].append({"node": node, "how": how, "roles": held, "before": before, "during": during})

        def chaos():
            try:
                wait_until(lambda: finished.is_set() or done() >= args.jobs * 0.1, 300, "10% of the results")
                if finished.is_set():
                    return
                outage(int(cluster("controller")), "kill")
                if args.outages < 2:
                    return
                wait_until(lambda: finished.is_set() or done() >= args.jobs * 0.5, 300, "50% of the results")
                if finished.is_set():
                    return
                outage(transaction_coordinator(f"{fleet.prefix}-worker-w2", transaction_leaders()), "stop")
            except Exception as e:  # reported as a failed check after the run
                stats["errors"].append(repr(e))

        t = threading.Thread(target=chaos, daemon=True)
        t.start()
        try:
            out, err = sub.communicate(timeout=900)
        finally:
            finished.set()
            t.join(timeout=240)
        elapsed = time.monotonic() - began
        check(not stats["errors"], f"the failures were injected {stats['errors']}")
        check(len(stats["kills"]) == args.outages,
              f"{args.outages} node(s) taken down and restarted while the run went on ({len(stats['kills'])})")
        if stats["kills"]:
            check({"active controller", f"{w1}'s transaction coordinator"} <= set(stats["kills"][0]["roles"]),
                  f"the killed node was the active controller and {w1}'s transaction coordinator "
                  f"{stats['kills'][0]['roles']}")
        for k in stats["kills"]:
            check(k["during"] > k["before"],
                  f"results kept coming while node {k['node']} was down ({k['how']}): {k['before']} -> {k['during']}")
        passed = args.jobs - failing
        check(sub.returncode == 1, f"submit --wait exits 1 for a run with failing jobs ({sub.returncode}; "
              f"{err.strip()[-300:]})")
        check(f"{args.jobs} total, {passed} passed, {failing} failed" in out,
              f"summary: {args.jobs} total, {passed} passed, {failing} failed ({out.strip().splitlines()[1:2]})")

        run = json.loads(fleet.api(f"/v1/runs/{run_id}"))
        final_rows, rows = fleet.stored_results(run_id)
        lost = args.jobs - len(final_rows)
        doubled = sum(1 for _, n in final_rows if n > 1)
        committed = fleet.committed_results()
        verdicts = [j["verdict"] for j in run["jobs"]]
        check(len(run["jobs"]) == args.jobs, f"every job is in the run's report ({len(run['jobs'])})")
        check(verdicts.count("failed") == failing and verdicts.count("passed") == passed,
              f"{passed} passed and {failing} failed, as the suite says")
        check(lost == 0, f"lost = {lost}")
        check(doubled == 0, f"jobs with more than one final result = {doubled}")
        check(len(committed) == rows,
              f"the read_committed results topic holds {len(committed)} records for {rows} stored results")
        for name, proc in fleet.procs.items():
            check(proc.poll() is None, f"{name} lived through the broker failures (exit {proc.poll()})")
        synced_from = time.monotonic()
        check_replicated(fleet.prefix, 60)
        print(f"  replicas in sync {time.monotonic() - synced_from:.0f} s after the run")
        print(f"failover: jobs {args.jobs}, outages {[(k['how'], k['node'], k['roles']) for k in stats['kills']]}, "
              f"stored results {rows}, lost {lost}, doubled {doubled + max(len(committed) - rows, 0)}, "
              f"{elapsed:.0f} s")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", required=True)
    p.add_argument("--source", required=True)
    p.add_argument("--jobs", type=int, default=300)
    p.add_argument("--job-seconds", type=float, default=0.4, help="each job sleeps this long")
    p.add_argument("--fail-every", type=int, default=50, help="every N-th job fails on purpose")
    p.add_argument("--outages", type=int, choices=(1, 2), default=1,
                   help="1: SIGKILL the active controller (also w1's transaction coordinator) at 10%% of the run; 2: also "
                        "stop (controlled shutdown) w2's transaction coordinator at 50%%")
    p.add_argument("--down", type=float, default=30,
                   help="seconds a node stays down: the controller fences it after broker.session.timeout.ms (9 s), "
                        "the group moves to a new coordinator and the workers rejoin it, then results must come")
    p.add_argument("--keep-cluster", action="store_true", help="leave the cluster running at the end")
    args = p.parse_args()
    fleet_e2e.ARGS = argparse.Namespace(build=os.path.abspath(args.build), source=os.path.abspath(args.source))
    began = time.monotonic()
    # A fresh cluster: partition leaders spread evenly, so the active controller leads transaction state partitions.
    cluster("wipe")
    started = cluster("start").strip()
    fleet_e2e.BROKERS = cluster("brokers").strip()
    print(f"failover: {args.jobs} jobs; {started} in {time.monotonic() - began:.0f} s")
    try:
        run_with_outages(args, began)
    except Exception as e:  # a test that blew up is a failure, and the cluster is still stopped
        fleet_e2e.FAILURES.append(repr(e))
        print(f"  FAIL {e!r}")
    if fleet_e2e.FAILURES:
        print("  cluster stopped, its data kept (the folder is named above)")
        cluster("stop")
    elif not args.keep_cluster:
        cluster("wipe")
    print(f"{len(fleet_e2e.FAILURES)} failed checks")
    return 1 if fleet_e2e.FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
