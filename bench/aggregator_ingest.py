#!/usr/bin/env python3
"""How many results a second one aggregator stores: N synthetic results waiting on a fresh results topic, the real
testfleet-aggregator started on a fresh database, timed until it has stored them all.

    python3 bench/aggregator_ingest.py --build build --results 5000 --runs 1 --output-bytes 0 --repeat 3

Per repeat: a new topic prefix (`testfleet topics` creates the topics), the runs' manifests and the results written
with kcat (not timed), then the aggregator is started and /metrics polled until testfleet_results_total reaches N.
The figure is the steady rate, from the first stored batch to the last (start-up left out), and the aggregator's
CPU per result (from /proc, so it holds when the machine is busy). Results are what a worker sends for a passed
job: one test case, usage, and --output-bytes of stdout tail; the aggregator reads them from a backlog, so there
are no transaction markers between them as there are on a fleet's topic. Encoded with protoc (text format → wire
format) once, ids filled in; the topics stay on the broker.
"""
import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
import urllib.request

BROKERS = "127.0.0.1:19092"
# Between records and between key and record in kcat's input (-D, -K); checked not to occur in any record.
RECORD_END = b"\n<<tf-bench-record>>\n"
KEY_END = b"\n<<tf-bench-key>>\n"


def protoc_encode(source, message, text):
    proto = os.path.join(source, "proto")
    out = subprocess.run(["protoc", f"--encode=testfleet.v1.{message}", "-I", proto,
                          os.path.join(proto, "testfleet", "v1", "testfleet.proto")],
                         input=text.encode(), capture_output=True, timeout=60, check=True)
    return out.stdout


# Fixed-length ids: a result is its template with the placeholders replaced by ids of the same length, so the
# protobuf length prefixes stay right and protoc runs once.
RUN_ID_PLACEHOLDER = "R" * len("bench-0000-0000000000")
JOB_ID_PLACEHOLDER = "J" * len("j000000")


def run_id(i):
    return f"bench-{i:04d}-{random.randrange(10 ** 10):010d}"


def job_id(j):
    return f"j{j:06d}"


def result_template(source, output_bytes):
    """A passed job's result with one case and output_bytes of stdout, its ids still placeholders."""
    line = "tests/test_bench.py::test_case PASSED  [ 50%] some output of the test under way\n"
    output = (line * (output_bytes // len(line) + 1))[:output_bytes]
    now = int(time.time() * 1000)
    text = " ".join([
        f'schema_version: 1 run_id: "{RUN_ID_PLACEHOLDER}" job_id: "{JOB_ID_PLACEHOLDER}" attempt: 1 final: true',
        'name: "tests/test_bench.py"', "verdict: PASSED",
        'cases { name: "test_case" classname: "tests.test_bench" status: PASSED duration_ms: 12 }',
        f"stdout_tail: {json.dumps(output)}", "usage { peak_memory_bytes: 10485760 cpu_ms: 9 wall_ms: 20 }",
        f"started_at_ms: {now - 20} finished_at_ms: {now}", 'worker_id: "bench-worker-1"', 'stage: "test"',
        "limits_enforced: true", 'tests: "tests/test_bench.py"'])
    return protoc_encode(source, "Result", text)


def result_record(template, run, job):
    return template.replace(RUN_ID_PLACEHOLDER.encode(), run.encode()).replace(JOB_ID_PLACEHOLDER.encode(),
                                                                               job.encode())


def kcat_produce(topic, records):
    data = b"".join(key.encode() + KEY_END + value + RECORD_END for key, value in records)
    subprocess.run(["kcat", "-b", BROKERS, "-P", "-t", topic, "-K", KEY_END.decode(), "-D", RECORD_END.decode(),
                    "-X", "linger.ms=20"], input=data, check=True, timeout=300)


def metric_sum(port, name):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        text = r.read().decode()
    return sum(float(l.rsplit(" ", 1)[1]) for l in text.splitlines() if l.startswith(name + "{") or
               l.startswith(name + " "))


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ingest_thread_seconds(pid):
    """(on a CPU, ready but waiting for one) of the ingest thread (the main thread), from its schedstat."""
    with open(f"/proc/{pid}/task/{pid}/schedstat") as f:
        ran, waited = f.read().split()[:2]
    return int(ran) / 1e9, int(waited) / 1e9


def progress_read_ms(port, run, reads):
    """Median ms of the progress answer `submit --wait` asks for, for a stored run, asked one after another."""
    times = []
    for _ in range(reads):
        t = time.monotonic()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/runs/{run}?jobs=false", timeout=30) as r:
            r.read()
        times.append(1000 * (time.monotonic() - t))
    return statistics.median(times) if times else float("nan")


def one_round(args, template, workdir):
    prefix = f"bench-ingest-{os.getpid()}-{random.randrange(1 << 30)}"
    build = args.build
    subprocess.run([os.path.join(build, "producer", "testfleet"), "--brokers", BROKERS, "--topic-prefix", prefix,
                    "topics"], check=True, capture_output=True, timeout=60)
    per_run = args.results // args.runs
    runs = [(run_id(i), [job_id(j) for j in range(per_run)]) for i in range(args.runs)]
    now = int(time.time() * 1000)
    manifests = []
    for run, jobs in runs:
        text = f'schema_version: 1 run_id: "{run}" suite_name: "bench" expected_jobs: {len(jobs)} ' \
               f"submitted_at_ms: {now} " + " ".join(f'job_ids: "{j}"' for j in jobs)
        manifests.append((run, protoc_encode(args.source, "RunManifest", text)))
    # Interleaved across runs, as results of concurrent runs arrive.
    results = [(run, result_record(template, run, jobs[j])) for j in range(per_run) for run, jobs in runs]
    for _, value in manifests + results:
        assert RECORD_END not in value and KEY_END not in value
    kcat_produce(f"{prefix}.runs", manifests)
    kcat_produce(f"{prefix}.results", results)
    total = len(results)

    db = os.path.join(workdir, f"{prefix}.db")
    log = open(os.path.join(workdir, f"{prefix}.log"), "w")
    started = time.monotonic()
    p = subprocess.Popen([os.path.join(build, "aggregator", "testfleet-aggregator"), "--brokers", BROKERS,
                          "--topic-prefix", prefix, "--db", db, "--port", "0"], stdout=subprocess.PIPE, stderr=log,
                         text=True)
    try:
        line = p.stdout.readline()
        assert line.startswith("listening on http://"), f"aggregator did not start: {line!r}"
        port = int(line.strip().rsplit(":", 1)[1])
        first = None
        deadline = time.monotonic() + args.timeout
        while True:
            stored = metric_sum(port, "testfleet_results_total")
            now = time.monotonic()
            if stored > 0 and first is None:
                first = (now, stored, cpu_seconds(p.pid), ingest_thread_seconds(p.pid))
            # A batch's results are counted before the runs it completed: wait for both.
            if stored >= total and metric_sum(port, "testfleet_runs_completed_total") >= len(runs):
                break
            if now > deadline:
                raise SystemExit(f"only {stored:.0f} of {total} stored after {args.timeout} s")
            time.sleep(0.05)
        end_cpu, end_thread = cpu_seconds(p.pid), ingest_thread_seconds(p.pid)
        progress_ms = progress_read_ms(port, runs[0][0], args.progress_reads)
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=60)
        log.close()
    t0, n0, cpu0, thread0 = first
    if n0 > total // 2:
        raise SystemExit(f"{n0:.0f} of {total} were stored by the first look: too few results to time (--results)")
    steady = (total - n0) / (now - t0)
    return {"steady": steady, "wall": now - started, "cpu_ms": 1000 * (end_cpu - cpu0) / max(total - n0, 1),
            # Shares of the steady time the ingest thread ran and waited for a CPU; the rest it waited for records.
            "ran": (end_thread[0] - thread0[0]) / (now - t0) if now > t0 else 0,
            "waited": (end_thread[1] - thread0[1]) / (now - t0) if now > t0 else 0,
            "progress_ms": progress_ms, "record_bytes": statistics.median(len(v) for _, v in results),
            "db_bytes_per_result": sum(os.path.getsize(db + s) for s in ("", "-wal") if os.path.exists(db + s)) / total}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--source", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--results", type=int, default=5000, help="results per repeat, spread evenly over --runs")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--output-bytes", type=int, default=0, help="stdout tail in each result")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--progress-reads", type=int, default=50,
                    help="GET /v1/runs/{id}?jobs=false asked this often after the ingest, timed")
    ap.add_argument("--db-dir", help="where the aggregator's database goes (default: a temporary folder; /dev/shm "
                                     "shows what the disk costs)")
    args = ap.parse_args()
    template = result_template(args.source, args.output_bytes)
    workdir = tempfile.mkdtemp(prefix="testfleet-ingest-", dir=args.db_dir)
    rounds = []
    try:
        for i in range(args.repeat):
            r = one_round(args, template, workdir)
            rounds.append(r)
            print(f"round {i + 1}: {r['steady']:.0f} results/s steady, {r['wall']:.2f} s from start, "
                  f"{r['cpu_ms']:.3f} ms CPU per result, ingest thread running {r['ran']:.0%} and "
                  f"waiting for a CPU {r['waited']:.0%} of the time, record {r['record_bytes']:.0f} B, "
                  f"database {r['db_bytes_per_result']:.0f} B per result, progress answer for a run of "
                  f"{args.results // args.runs} jobs {r['progress_ms']:.1f} ms",
                  flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    rates = [r["steady"] for r in rounds]
    cpu = [r["cpu_ms"] for r in rounds]
    print(f"{args.results} results in {args.runs} run(s), {args.output_bytes} B output: median "
          f"{statistics.median(rates):.0f} results/s ({', '.join(f'{x:.0f}' for x in rates)}), "
          f"median {statistics.median(cpu):.3f} ms CPU per result; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
