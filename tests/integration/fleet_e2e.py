#!/usr/bin/env python3
"""End-to-end tests of the walking fleet against the real local Kafka (started by scripts/kafka.sh).

Each case uses its own topic prefix, database and work folders, so cases and repeated runs never see each
other's records. Services are the real binaries; nothing is faked.
"""
import argparse
import hashlib
import html.parser
import json
import os
import re
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

ARGS = None
BROKERS = "127.0.0.1:" + os.environ.get("TESTFLEET_KAFKA_PORT", "19092")
FAILURES = []


def check(condition, message):
    if condition:
        print(f"  ok   {message}")
    else:
        print(f"  FAIL {message}")
        FAILURES.append(message)


def wait_until(predicate, timeout, what, fail=True):
    """predicate's first true value within timeout; past it an AssertionError, or None with fail=False."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    if not fail:
        return None
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Fleet:
    """An aggregator and workers on a fresh topic prefix; stops everything on exit."""

    def __init__(self, name):
        self.prefix = f"e2e-{name}-{os.getpid()}-{random.randrange(1 << 30)}"
        self.dir = tempfile.mkdtemp(prefix=f"testfleet-{name}-")
        os.chmod(self.dir, 0o711)  # jobs run as uids of their own, which pass through to their folders
        self.procs = {}
        self.port = None

    def bin(self, name):
        return os.path.join(ARGS.build, {"testfleet": "producer", "testfleet-worker": "worker",
                                         "testfleet-aggregator": "aggregator"}[name], name)

    def start_aggregator(self, *extra, db=None):
        log = open(os.path.join(self.dir, "aggregator.log"), "a")
        p = subprocess.Popen([self.bin("testfleet-aggregator"), "--brokers", BROKERS, "--topic-prefix", self.prefix,
                              "--db", db or os.path.join(self.dir, "results.db"), "--port", "0", *extra],
                             stdout=subprocess.PIPE, stderr=log, text=True)
        line = p.stdout.readline()
        assert line.startswith("listening on http://"), f"aggregator did not start: {line!r}"
        self.port = int(line.strip().rsplit(":", 1)[1])
        self.procs["aggregator"] = p
        return p

    def start_worker(self, wid, slots=2, *extra):
        log = open(os.path.join(self.dir, f"worker-{wid}.log"), "a")
        p = subprocess.Popen([self.bin("testfleet-worker"), "--brokers", BROKERS, "--topic-prefix", self.prefix,
                              "--id", wid, "--slots", str(slots), "--work-dir", os.path.join(self.dir, "work"),
                              "--grace", "10s", *(["--aggregator", f"http://127.0.0.1:{self.port}"] if self.port else []),
                              *extra], stdout=log, stderr=log)
        self.procs[wid] = p
        return p

    def submit(self, suite, *extra, timeout=600):
        cmd = [self.bin("testfleet"), "--brokers", BROKERS, "--topic-prefix", self.prefix, "submit", suite,
               "--aggregator", f"http://127.0.0.1:{self.port or 1}", *extra]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)

    def submit_async(self, suite, *extra):
        cmd = [self.bin("testfleet"), "--brokers", BROKERS, "--topic-prefix", self.prefix, "submit", suite,
               "--aggregator", f"http://127.0.0.1:{self.port}", *extra]
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def api(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:
            return r.read().decode()

    def jobs_done(self, run_id, unknown=-1):
        """How many of the run's jobs have a final result, as the API says; `unknown` while it does not answer."""
        try:
            return json.loads(self.api(f"/v1/runs/{run_id}?jobs=false"))["jobs_done"]
        except Exception:
            return unknown

    def stored_results(self, run_id):
        """From the aggregator's database: [(job_id, final results)] and the count of all stored results."""
        db = sqlite3.connect(os.path.join(self.dir, "results.db"))
        try:
            final_rows = db.execute(
                "SELECT job_id, COUNT(*) FROM results WHERE run_id = ? AND final = 1 GROUP BY job_id",
                (run_id,)).fetchall()
            return final_rows, db.execute("SELECT COUNT(*) FROM results WHERE run_id = ?", (run_id,)).fetchone()[0]
        finally:
            db.close()

    def committed_results(self):
        """Counts the results topic's records as a read_committed consumer sees them."""
        out = subprocess.run(["kcat", "-b", BROKERS, "-C", "-t", f"{self.prefix}.results", "-o", "beginning", "-e",
                              "-q", "-X", "isolation.level=read_committed", "-f", "%p:%o\n"],
                             capture_output=True, text=True, timeout=60)
        return [l for l in out.stdout.splitlines() if l.strip()]

    def topic_exists(self, topic):
        out = subprocess.run(["kcat", "-b", BROKERS, "-L", "-J"], capture_output=True, text=True, timeout=30)
        return any(t["topic"] == topic for t in json.loads(out.stdout)["topics"])

    def close(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        if not FAILURES:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            print(f"  logs kept in {self.dir}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def write_suite(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def junit_counts(path):
    root = ET.parse(path).getroot()
    counts = {k: int(root.get(k)) for k in ("tests", "failures", "errors")}
    # junit-10.xsd allows no testsuites@skipped: the suites' counts add up to the run's.
    counts["skipped"] = sum(int(s.get("skipped")) for s in root.iter("testsuite"))
    return counts


class _IdTexts(html.parser.HTMLParser):
    def __init__(self, ids):
        super().__init__()
        self.ids, self.found, self.current = ids, {}, None

    def handle_starttag(self, tag, attrs):
        element_id = dict(attrs).get("id")
        if element_id in self.ids:
            self.current = element_id
            self.found[element_id] = ""

    def handle_endtag(self, tag):
        self.current = None

    def handle_data(self, data):
        if self.current:
            self.found[self.current] += data.strip()


def texts_by_id(document, ids):
    parser = _IdTexts(ids)
    parser.feed(document)
    return parser.found


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def case_zygotes():
    print("--zygotes: pytest jobs are forks of the warm zygote, each in fresh namespaces; other jobs run cold")
    with Fleet("zygotes") as fleet:
        fleet.start_aggregator()
        fleet.start_worker("w1", 2, "--zygotes")
        probe = ("import os, socket\n\n"
                 "def test_forked():\n"
                 "    assert b'zygote.py' in open('/proc/1/cmdline', 'rb').read()\n"
                 "    assert os.getuid() == 1000 and socket.gethostname() == 'testfleet'\n"
                 "    assert os.listdir('/tmp') == [] and sorted(os.listdir('/proc'))[0] in '123'\n"
                 "    open('/tmp/left-behind', 'w').write('x')\n")
        jobs = "".join(f"  - name: forked {i}\n    framework: pytest\n    files:\n      test_forked.py: |\n" +
                       "".join(f"        {line}\n" for line in probe.splitlines()) for i in range(4))
        suite = write_suite(fleet.dir, "suite.yaml", "name: zygotes\ndefaults:\n  timeout: 60s\ntests:\n" + jobs +
                            "  - name: failing\n    framework: pytest\n    files:\n      test_f.py: |\n"
                            "        def test_f():\n            assert 1 == 2, 'on purpose'\n"
                            "  - name: cold shell\n    command: \"! grep -q zygote /proc/1/cmdline\"\n")
        r = fleet.submit(suite, "--wait", "--json", os.path.join(fleet.dir, "run.json"), timeout=600)
        by_name = {j["name"]: j for j in json.load(open(os.path.join(fleet.dir, "run.json")))["jobs"]}
        verdicts = {n: j["verdict"] for n, j in by_name.items()}
        check(r.returncode == 1, f"exit code 1 for the failing test (got {r.returncode}: {r.stderr[-300:]})")
        check(all(verdicts[f"forked {i}"] == "passed" for i in range(4)),
              f"each forked job ran in the zygote's child with a fresh /tmp, /proc, uid and host name: {verdicts}")
        check(verdicts["failing"] == "failed" and verdicts["cold shell"] == "passed",
              f"a failing forked test fails; a shell job runs cold: {verdicts}")
        log = open(os.path.join(fleet.dir, "worker-w1.log")).read()
        check("forks of a warm zygote" in log, "the worker says pytest jobs are forked from the zygote")


def case_demo_suite():
    print("demo suite end to end")
    with Fleet("demo") as fleet:
        fleet.start_aggregator()
        status_port = free_port()
        fleet.start_worker("w1", 2, "--http", f"127.0.0.1:{status_port}")
        junit = os.path.join(fleet.dir, "junit.xml")
        html = os.path.join(fleet.dir, "report.html")
        markdown = os.path.join(fleet.dir, "summary.md")
        r = fleet.submit(os.path.join(ARGS.source, "examples/demo/suite.yaml"), "--wait", "--junit", junit,
                         "--json", os.path.join(fleet.dir, "run.json"), "--html", html, "--markdown", markdown)
        check(r.returncode == 1, f"exit code 1 for a suite with a failing test (got {r.returncode}: {r.stderr[-500:]})")
        check("12 total, 7 passed, 1 failed, 1 skipped, 1 flaky, 1 timeout, 1 oom" in r.stdout, "summary counts: " + r.stdout.splitlines()[1]
              if len(r.stdout.splitlines()) > 1 else "summary printed")
        check("test_intentional_failure: AssertionError: floating point strikes again" in r.stdout,
              "the failing test is listed with its message")
        counts = junit_counts(junit)
        check(counts == {"tests": 12, "failures": 1, "errors": 2, "skipped": 1}, f"JUnit counts match: {counts}")
        by_name = {j["name"]: j for j in json.load(open(os.path.join(fleet.dir, "run.json")))["jobs"]}
        check(by_name["memory hog (OOM on purpose)"]["verdict"] == "oom", "the memory hog is OOM")
        check(by_name["sleeper (TIMEOUT on purpose)"]["verdict"] == "timeout", "the sleeper is TIMEOUT")
        setup_job = by_name["setup runs before the test"]
        check([a["path"] for a in setup_job.get("artifacts", [])] == ["prepared.txt"], "the job lists its artifact")
        run_id = json.load(open(os.path.join(fleet.dir, "run.json")))["run_id"]
        content = fleet.api(f"/v1/runs/{run_id}/jobs/{setup_job['job_id']}/artifacts/prepared.txt")
        check(content == "ready\n", f"the artifact downloads from the API ({content!r})")
        flaky = by_name["flaky (fails once, passes on rerun)"]
        check(flaky["verdict"] == "flaky" and [a["verdict"] for a in flaky["attempts"]] == ["failed", "passed"],
              f"failed then passed on rerun is FLAKY ({flaky['verdict']})")
        check(ET.parse(junit).getroot().find(".//flakyFailure") is not None, "JUnit keeps the flaky failure")
        run = json.load(open(os.path.join(fleet.dir, "run.json")))
        env_job = [j for j in run["jobs"] if j["name"] == "environment reaches the test"][0]
        check(env_job["verdict"] == "passed", "the job's env var reached the test")
        check(all(j["peak_memory_bytes"] > 0 and j["wall_ms"] > 0 for j in run["jobs"]), "usage recorded per job")
        metrics = fleet.api("/metrics")
        check('testfleet_results_total{verdict="failed"} 2' in metrics, "metrics count results (every attempt) by verdict")
        check("testfleet_job_duration_seconds_count 10" in metrics, "metrics have job durations")
        md = open(markdown).read()
        check("| 12 | 7 | 1 | 1 | 1 | 1 | 1 | 0 | 0 |" in md and "### Failing tests" in md and "floating point" in md,
              "Markdown summary has the counts and the failing test")
        dom = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                              "--no-first-run", "--disable-background-networking", "--disable-component-update",
                              "--disable-sync", f"--user-data-dir={fleet.dir}/chromium", "--dump-dom",
                              f"file://{html}"], capture_output=True, text=True, timeout=120).stdout
        counts = texts_by_id(dom, ("total", "failed", "flaky", "verdict"))
        check(counts == {"verdict": "failed", "total": "12", "failed": "1", "flaky": "1"},
              f"the HTML report, as headless Chromium renders it, shows the counts: {counts}")
        check(dom.count('class="failure"') == 3, "the HTML report lists the three failures")
        with urllib.request.urlopen(f"http://127.0.0.1:{status_port}/readyz", timeout=10) as r:
            ready = json.loads(r.read())
        check(ready["sandbox"] == "bubblewrap" and ready["seccomp"] and ready["limits_enforced"],
              f"worker /readyz states its isolation: {ready}")
        with urllib.request.urlopen(f"http://127.0.0.1:{status_port}/metrics", timeout=10) as r:
            worker_metrics = r.read().decode()
        check('testfleet_worker_jobs_total{verdict="oom"} 1' in worker_metrics, "worker metrics count jobs by verdict")


def case_malformed_suite():
    print("malformed suite")
    with Fleet("bad") as fleet:
        suite = write_suite(fleet.dir, "bad.yaml", "name: bad\ntests:\n  - name: a\n    comand: 'true'\n")
        r = fleet.submit(suite)
        check(r.returncode == 2, f"exit code 2 (got {r.returncode})")
        check("bad.yaml:4: unknown key 'comand'" in r.stderr, f"message names key and line: {r.stderr.strip()}")
        check(not fleet.topic_exists(f"{fleet.prefix}.jobs"), "nothing was published (no jobs topic)")


def case_graceful_stop():
    print("SIGTERM: the worker finishes its running jobs, commits them and leaves; nothing is run twice")
    with Fleet("drain") as fleet:
        fleet.start_aggregator()
        w1 = fleet.start_worker("w1", 2)
        suite = trivial_suite(fleet.dir, 6, "sleep 2")
        sub = fleet.submit_async(suite, "--wait", "--stall-timeout", "2m")
        run_id = sub.stdout.readline().strip()
        log = os.path.join(fleet.dir, "worker-w1.log")
        wait_until(lambda: subprocess.run(["pgrep", "-x", "-f", "sleep 2"], capture_output=True).returncode == 0,
                   30, "a job to be running")
        started = time.monotonic()
        w1.send_signal(signal.SIGTERM)
        rc = w1.wait(timeout=30)
        took = time.monotonic() - started
        check(rc == 0, f"the worker exited cleanly ({rc}) after {took:.1f} s")
        text = open(log).read()
        check("stopping: no new jobs" in text and "left the group" in text, "it drained and left the group")
        finished_by_w1 = text.count("record(s) committed")
        check(finished_by_w1 >= 1, f"the jobs it was running were committed ({finished_by_w1})")
        fleet.start_worker("w2", 2)
        out, err = sub.communicate(timeout=120)
        check(sub.returncode == 0 and "6 total, 6 passed" in out, f"the run completed ({sub.returncode})")
        check(len(fleet.committed_results()) == 6, f"exactly 6 results committed ({len(fleet.committed_results())})")


def case_stalled():
    print("a run nobody works on ends --wait with exit 3 and names what is missing")
    with Fleet("stall") as fleet:
        fleet.start_aggregator()  # and no worker
        suite = trivial_suite(fleet.dir, 3, "true")
        r = fleet.submit(suite, "--wait", "--stall-timeout", "3s", timeout=60)
        check(r.returncode == 3, f"exit code 3 ({r.returncode})")
        check("no progress for 3.00 s: 3 of 3 jobs have no result" in r.stderr, r.stderr.strip().splitlines()[-5])
        check("3 job(s) without a result:" in r.stderr and "  t0002" in r.stderr, "the missing jobs are named")


def trivial_suite(directory, n, command):
    lines = ["name: trivial", "tests:"]
    for i in range(n):
        lines += [f"  - name: t{i:04d}", f"    command: {command}"]
    return write_suite(directory, f"trivial-{n}.yaml", "\n".join(lines) + "\n")


def case_200_with_worker_killed():
    print("200 tests, a worker SIGKILLed mid-run")
    with Fleet("kill") as fleet:
        fleet.start_aggregator()
        fleet.start_worker("w1")
        fleet.start_worker("w2")
        suite = trivial_suite(fleet.dir, 200, "sleep 0.1")
        junit = os.path.join(fleet.dir, "junit.xml")
        sub = fleet.submit_async(suite, "--wait", "--junit", junit, "--stall-timeout", "3m")
        run_id = sub.stdout.readline().strip()

        def done():
            return fleet.jobs_done(run_id, unknown=0)

        wait_until(lambda: done() >= 40, 120, "40 results")
        fleet.procs["w1"].send_signal(signal.SIGKILL)
        fleet.procs["w1"].wait()
        print(f"  killed w1 after {done()} results")
        fleet.start_worker("w1")  # the same id: its transactional id fences the dead instance
        out, err = sub.communicate(timeout=600)
        check(sub.returncode == 0, f"run passed (exit {sub.returncode}; {err[-300:]})")
        check("200 total, 200 passed" in out, "summary: 200 passed")
        run = json.loads(fleet.api(f"/v1/runs/{run_id}"))
        ids = [j["job_id"] for j in run["jobs"]]
        check(len(ids) == 200 and len(set(ids)) == 200, f"200 distinct jobs stored ({len(ids)}, {len(set(ids))})")
        counts = junit_counts(junit)
        check(counts["tests"] == 200 and counts["failures"] == 0, f"JUnit has 200 tests: {counts}")
        committed = fleet.committed_results()
        check(len(committed) == 200, f"read_committed results topic holds exactly 200 results ({len(committed)})")


def case_aggregator_restart():
    print("aggregator SIGKILLed and restarted resumes from its stored positions")
    with Fleet("agg") as fleet:
        fleet.start_aggregator()
        fleet.start_worker("w1")
        suite = trivial_suite(fleet.dir, 30, "true")
        r = fleet.submit(suite, "--wait")
        check(r.returncode == 0, f"first run passed ({r.returncode})")
        fleet.procs["aggregator"].send_signal(signal.SIGKILL)
        fleet.procs["aggregator"].wait()
        fleet.start_aggregator()
        r = fleet.submit(suite, "--wait")
        check(r.returncode == 0, f"second run passed after the restart ({r.returncode})")
        runs = json.loads(fleet.api("/v1/runs"))["runs"]
        check(len(runs) == 2 and all(x["jobs_done"] == 30 for x in runs), "both runs have 30 results each")
        metrics = fleet.api("/metrics")
        # The restarted process stored only the second run's results: it did not re-read the first run.
        check('testfleet_results_total{verdict="passed"} 30' in metrics, "no record was read twice after restart")


def case_dead_letters():
    print("retries exhausted and poison records go to the dead-letter topic; `dlq replay` brings a job back")
    with Fleet("dlq") as fleet:
        fleet.start_aggregator()
        fleet.start_worker("w1", 1, "--inject-sandbox-faults", "1", "--max-attempts", "3", "--retry-in-place", "1",
                           "--retry-delays", "1s,1s,1s")
        suite = trivial_suite(fleet.dir, 1, "true")
        r = fleet.submit(suite, "--wait", "--json", os.path.join(fleet.dir, "run.json"), timeout=120)
        check(r.returncode == 1, f"a job whose sandbox always fails ends the run as failed ({r.returncode})")
        check("1 error" in r.stdout, "summary counts it as error")
        run = json.load(open(os.path.join(fleet.dir, "run.json")))
        attempts = run["jobs"][0].get("attempts", [])
        check([a["attempt"] for a in attempts] == [1, 2, 3] and attempts[-1]["final"]
              and "gave up after 3 attempts" in attempts[-1]["error"],
              f"three attempts shown, the last final: {[(a['attempt'], a['final']) for a in attempts]}")
        subprocess.run(["kcat", "-b", BROKERS, "-P", "-t", f"{fleet.prefix}.jobs", "-k", "poison"],
                       input="this is not a job", text=True, check=True, timeout=30)
        cli = [fleet.bin("testfleet"), "--brokers", BROKERS, "--topic-prefix", fleet.prefix, "dlq"]

        def letters():
            out = subprocess.run(cli + ["list", "--json"], capture_output=True, text=True, timeout=60)
            return json.loads(out.stdout) if out.returncode == 0 else []

        found = wait_until(lambda: (lambda l: l if len(l) >= 2 else None)(letters()), 60, "two dead letters")
        reasons = [d["reason"] for d in found]
        check(any("attempts exhausted (3)" in x for x in reasons), f"exhausted job is a dead letter: {reasons}")
        check(any("does not decode" in x for x in reasons), "poison record is a dead letter")
        fleet.procs["w1"].send_signal(signal.SIGTERM)
        fleet.procs["w1"].wait(timeout=30)
        fleet.start_worker("w1", 1)  # healthy now
        exhausted = [d for d in found if "attempts exhausted" in d["reason"]][0]
        out = subprocess.run(cli + ["replay", f"{exhausted['partition']}:{exhausted['offset']}"], capture_output=True,
                             text=True, timeout=60)
        check(out.returncode == 0, f"replay accepted: {out.stdout.strip()} {out.stderr.strip()}")
        run_id = run["run_id"]

        def passed_now():
            job = json.loads(fleet.api(f"/v1/runs/{run_id}"))["jobs"][0]
            return job if job["verdict"] == "passed" else None

        job = wait_until(passed_now, 60, "the replayed job to pass")
        check(job["attempt"] == 4, f"the replayed job ran as attempt 4 ({job['attempt']})")


def tar_gz(entries):
    """A gzip'd tar written as given: (name, bytes) files and (name, None, target) symbolic links."""
    import io
    import tarfile
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, data, *link in entries:
            info = tarfile.TarInfo(name)
            if link:
                info.type, info.linkname = tarfile.SYMTYPE, link[0]
                t.addfile(info)
            else:
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def put_blob(fleet, body, sha=None):
    """PUTs body on the aggregator's blob endpoint (named by its SHA-256 unless told); returns (status, sha)."""
    sha = sha or hashlib.sha256(body).hexdigest()
    req = urllib.request.Request(f"http://127.0.0.1:{fleet.port}/v1/blobs/{sha}", data=body, method="PUT")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, sha
    except urllib.error.HTTPError as e:
        return e.code, sha


def submit_for_jobs(fleet, suite, report_name):
    """Submits and waits; returns the completed process and the JSON report's jobs by name."""
    report = os.path.join(fleet.dir, report_name)
    r = fleet.submit(suite, "--wait", "--json", report)
    jobs = {j["name"]: j for j in json.load(open(report))["jobs"]} if os.path.exists(report) else {}
    return r, jobs


def check_failed_at_bundle(jobs, expected):
    """Each (job name, words) failed at stage bundle with words in its error."""
    for name, words in expected:
        j = jobs.get(name, {})
        check(j.get("verdict") == "failed" and j.get("stage") == "bundle" and words in j.get("error", ""),
              f"{name}: failed at stage bundle ({j.get('verdict')}, {j.get('stage')}: {j.get('error', '')[:160]})")


def case_bundles():
    """A folder travels as a bundle through the aggregator's blob endpoint; bad bundles fail their job, not the worker."""
    print("bundles: upload once, fetch, verify, refuse tampered and hostile archives")
    with Fleet("bundles") as fleet:
        fleet.start_aggregator()
        fleet.start_worker("w1", 2)
        project = os.path.join(fleet.dir, "project")
        os.makedirs(os.path.join(project, "data"))
        with open(os.path.join(project, "data", "numbers.txt"), "w") as f:
            f.write("1 2 3\n")
        with open(os.path.join(project, "test_sum.py"), "w") as f:
            f.write("def test_sum():\n    assert sum(map(int, open('data/numbers.txt').read().split())) == 6\n")
        suite = write_suite(fleet.dir, "bundle.yaml", "name: bundled\ntests:\n  - name: reads its data\n"
                                                      "    framework: pytest\n    root: project\n")
        first = fleet.submit(suite, "--wait")
        check(first.returncode == 0, f"a job whose workspace is a bundled folder passes (exit {first.returncode}): "
                                     f"{first.stderr[-500:]}")
        check("uploaded" in first.stderr, "the first submit uploads the bundle")
        again = fleet.submit(suite, "--wait")
        check(again.returncode == 0 and "already there" in again.stderr,
              f"the same folder again is not stored twice: {again.stderr[-300:]}")

        check(put_blob(fleet, b"something else", "0" * 64)[0] == 400,
              "the blob endpoint refuses a body whose hash is not its name")

        hostile = tar_gz([("../../escaped.txt", b"out"), ("test_x.py", b"def test_x(): pass\n")])
        status, hostile_sha = put_blob(fleet, hostile)
        check(status == 201, "a hostile archive with the right hash is stored (it is just bytes)")
        _, good_sha = put_blob(fleet, tar_gz([("test_x.py", b"def test_x(): pass\n")]))
        base = f"http://127.0.0.1:{fleet.port}/v1/blobs"
        suite = write_suite(fleet.dir, "bad.yaml", f"""name: bad-bundles
tests:
  - name: good
    framework: pytest
    bundle: {{url: "{base}/{good_sha}", sha256: "{good_sha}"}}
  - name: escapes
    framework: pytest
    bundle: {{url: "{base}/{hostile_sha}", sha256: "{hostile_sha}"}}
  - name: tampered
    framework: pytest
    bundle: {{url: "{base}/{good_sha}", sha256: "{hostile_sha}"}}
  - name: local file
    framework: pytest
    bundle: {{url: "file:///etc/passwd", sha256: "{'ab' * 32}"}}
""")
        r, jobs = submit_for_jobs(fleet, suite, "bad.json")
        check(r.returncode == 1, f"bad bundles fail the run as tests failed (exit {r.returncode})")
        check(jobs.get("good", {}).get("verdict") == "passed", "a prebuilt bundle named by URL and hash runs")
        check_failed_at_bundle(jobs, [("escapes", "would leave the workspace"),
                                      ("tampered", "does not have the SHA-256"), ("local file", "does not accept")])
        check(not os.path.exists(os.path.join(fleet.dir, "escaped.txt")) and
              not any(f == "escaped.txt" for _, _, fs in os.walk(fleet.dir) for f in fs),
              "nothing was written outside the bundle's folder")

    # The blob store is bounded: past --max-blobs-gib the least recently used blobs go, never one used within
    # the last hour (a run may still need it); with nothing old enough the upload is refused with 507.
    with Fleet("blobcap") as fleet:
        fleet.start_aggregator("--max-blobs-gib", str(1500 / (1 << 30)))

        def put(body):
            return put_blob(fleet, body)

        first, first_sha = put(os.urandom(1000))
        full, _ = put(os.urandom(1000))
        check(first == 201 and full == 507, f"a full store refuses a blob while the others are recent ({first}, {full})")
        old = time.time() - 2 * 3600
        os.utime(os.path.join(fleet.dir, "results.db.blobs", first_sha), (old, old))
        second, _ = put(os.urandom(1000))
        check(second == 201 and not os.path.exists(os.path.join(fleet.dir, "results.db.blobs", first_sha)),
              f"an hour-old blob makes room for a new one ({second})")


def case_whole_folders():
    """Projects travel whole: node_modules, dot-folders and links inside them; VCS folders, caches, what
    .testfleetignore and exclude: name, and unsafe links are left out, and submit says so."""
    print("whole folders: node_modules/<dep> and a dot-folder run through the fleet; unsafe links refused")

    def write(path, text, mode=0o644):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)

    with Fleet("folders") as fleet:
        fleet.start_aggregator()
        fleet.start_worker("w1", 2)
        node = os.path.join(fleet.dir, "node-project")
        write(os.path.join(node, "package.json"), '{"name": "app", "version": "1.0.0"}\n')
        dep = os.path.join(node, "node_modules", "leftpad")
        write(os.path.join(dep, "package.json"), '{"name": "leftpad", "version": "1.0.0", "main": "index.js"}\n')
        write(os.path.join(dep, "index.js"), "module.exports = (s, n) => ' '.repeat(Math.max(0, n - s.length)) + s;\n")
        write(os.path.join(dep, "cli.js"), "#!/usr/bin/env node\nconsole.log(require('./index.js')('x', 3));\n", 0o755)
        write(os.path.join(dep, "leftpad.test.js"), "throw new Error('a dependency\\'s test was run');\n")
        os.makedirs(os.path.join(node, "node_modules", ".bin"))
        os.symlink("../leftpad/cli.js", os.path.join(node, "node_modules", ".bin", "leftpad"))
        os.symlink("/etc/passwd", os.path.join(node, "escape"))
        write(os.path.join(node, ".git", "HEAD"), "ref: refs/heads/main\n")
        write(os.path.join(node, "build", "out.txt"), "built\n")
        write(os.path.join(node, ".testfleetignore"), "# made by the build\nbuild/\n")
        write(os.path.join(node, "slow.test.js"), "throw new Error('an excluded test was run');\n")
        write(os.path.join(node, "app.test.js"), """const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const { execFileSync } = require('node:child_process');
test('a dependency in node_modules resolves', () => {
  assert.strictEqual(require('leftpad')('7', 3), '  7');
});
test('node_modules/.bin links run', () => {
  assert.strictEqual(execFileSync('node_modules/.bin/leftpad').toString().trim(), 'x');
});
test('what was left out is not there', () => {
  for (const gone of ['.git', 'build', 'escape']) assert.ok(!fs.existsSync(gone), gone);
});
""")
        suite = write_suite(fleet.dir, "node.yaml", "name: node-whole\ndirectory:\n  root: node-project\n"
                                                    "  framework: node\n  exclude: [slow.test.js]\n")
        r, jobs = submit_for_jobs(fleet, suite, "node.json")
        check(r.returncode == 0 and list(jobs) == ["app.test.js"],
              f"node_modules/<dep> resolves in the fleet; only the project's own test file ran "
              f"(exit {r.returncode}, jobs {list(jobs)}): {r.stdout[-400:]} {r.stderr[-600:]}")
        check(re.search(r"bundle of \S*node-project: \d+ files, 1 links", r.stderr) is not None,
              "submit prints the bundle's file and link counts and its size")
        for words in ["1 absolute link (escape)", "1 by default (.git/)", "1 by .testfleetignore (build/)",
                      "1 by exclude: (slow.test.js)"]:
            check(words in r.stderr, f"submit says what it left out: {words}")

        py = os.path.join(fleet.dir, "py-project")
        write(os.path.join(py, ".config", "settings.json"), '{"answer": 42}\n')
        write(os.path.join(py, ".helpers", "answers.py"), "ANSWER = 42\n")
        write(os.path.join(py, "__pycache__", "stale.pyc"), "junk")
        os.symlink(".config/settings.json", os.path.join(py, "settings.json"))
        write(os.path.join(py, "test_settings.py"), """import importlib.util, json, os
def test_dot_folder_travels():
    assert json.load(open('.config/settings.json'))['answer'] == 42
def test_link_inside_travels():
    assert os.path.islink('settings.json') and json.load(open('settings.json'))['answer'] == 42
def test_dot_folder_module_loads():
    spec = importlib.util.spec_from_file_location('answers', '.helpers/answers.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.ANSWER == 42
def test_cache_left_out():
    assert not os.path.exists('__pycache__/stale.pyc')
""")
        suite = write_suite(fleet.dir, "py.yaml", "name: py-whole\ndirectory:\n  root: py-project\n"
                                                  "  framework: pytest\n")
        r = fleet.submit(suite, "--wait")
        check(r.returncode == 0 and "4 passed" in r.stdout,
              f"a Python project's dot-folders and inner links travel (exit {r.returncode}): "
              f"{r.stdout[-400:]} {r.stderr[-400:]}")

        test = ("test_x.py", b"def test_x(): pass\n")
        _, escaping = put_blob(fleet, tar_gz([("up", None, "../../.."), test]))
        _, through = put_blob(fleet, tar_gz([("lnk", None, "../.."), ("lnk/escaped-through.txt", b"out"), test]))
        base = f"http://127.0.0.1:{fleet.port}/v1/blobs"
        suite = write_suite(fleet.dir, "links.yaml", f"""name: hostile-links
tests:
  - name: escaping link
    framework: pytest
    bundle: {{url: "{base}/{escaping}", sha256: "{escaping}"}}
  - name: written through a link
    framework: pytest
    bundle: {{url: "{base}/{through}", sha256: "{through}"}}
""")
        r, jobs = submit_for_jobs(fleet, suite, "links.json")
        check(r.returncode == 1, f"hostile link bundles fail the run as tests failed (exit {r.returncode})")
        check_failed_at_bundle(jobs, [("escaping link", "leaves the folder"),
                                      ("written through a link", "through the link")])
        check(not any(f == "escaped-through.txt" for _, _, fs in os.walk(fleet.dir) for f in fs),
              "nothing was written through a link")
        check(fleet.procs["w1"].poll() is None, "the worker is still running")


def case_any_bytes():
    print("any bytes a test prints reach the report: Latin-1, U+FFFF, control characters, 70,000 'é'")
    with Fleet("bytes") as fleet:
        fleet.start_aggregator()
        fleet.start_worker("w1", 2)
        suite = write_suite(fleet.dir, "bytes.yaml", "\n".join([
            "name: bytes",
            "tests:",
            "  - name: latin-1 on stdout",
            "    command: printf 'caf\\351\\n'",
            "  - name: U+FFFF and control characters on stdout",
            "    command: printf '\\357\\277\\277 \\001 <script>x</script>\\n'; exit 1",
            "  - name: 70000 e-acute",
            "    command: python3 -c \"import sys; sys.stdout.buffer.write(('\\u00e9' * 70000 + '\\n').encode())\"",
            "  - name: latin-1 in a JUnit message",
            "    junit: report.xml",
            "    command: printf '<testsuite><testcase classname=\"c\" name=\"t\"><failure message=\"caf\\351\"/>"
            "</testcase><testcase classname=\"c\" name=\"u\"><failure message=\"&lt;script&gt;x&lt;/script&gt;\"/>"
            "</testcase></testsuite>' > report.xml; exit 1",
        ]) + "\n")
        junit = os.path.join(fleet.dir, "junit.xml")
        markdown = os.path.join(fleet.dir, "summary.md")
        html = os.path.join(fleet.dir, "report.html")
        r = fleet.submit(suite, "--wait", "--junit", junit, "--json", os.path.join(fleet.dir, "run.json"),
                         "--markdown", markdown, "--html", html, timeout=300)
        check(r.returncode == 1 and "5 total, 2 passed, 3 failed" in r.stdout,
              f"every job has a verdict, exit 1 for the two failing ones ({r.returncode}: {r.stdout[-300:]!r})")
        by_name = {j["name"]: j for j in json.load(open(os.path.join(fleet.dir, "run.json")))["jobs"]}
        latin1 = by_name.get("latin-1 on stdout", {})
        check(latin1.get("verdict") == "passed" and latin1.get("stdout_tail") == "caf\ufffd\n",
              f"printf 'caf\\351' passed, its byte shown as U+FFFD ({latin1.get('stdout_tail')!r})")
        wide = by_name.get("70000 e-acute", {})
        tail = wide.get("stdout_tail", "")
        check(wide.get("verdict") == "passed" and "testfleet cut" in tail and "\ufffd" not in tail,
              "70,000 'é': passed, the tail cut between characters")
        junit_job = by_name.get("latin-1 in a JUnit message", {})
        check([c["message"] for c in junit_job.get("cases", [])] == ["caf\ufffd", "<script>x</script>"],
              f"the JUnit cases' messages arrive ({junit_job.get('cases')})")
        try:
            counts = junit_counts(junit)  # expat: U+FFFF, control characters or invalid UTF-8 would not parse
        except ET.ParseError as e:
            counts = str(e)
        check(counts == {"tests": 5, "failures": 3, "errors": 0, "skipped": 0}, f"junit.xml is well-formed: {counts}")
        md = open(markdown, encoding="utf-8").read()
        check("<script>" not in md and "&lt;script&gt;x&lt;/script&gt;" in md,
              "the Markdown summary shows the message with its HTML escaped")
        check("<script>" not in open(html, encoding="utf-8").read(), "the HTML report has no raw <script>")
        logs = open(os.path.join(fleet.dir, "aggregator.log")).read()
        check("does not decode" not in logs and "not valid UTF-8" not in logs,
              "the aggregator decoded every result as the worker sent it")

def manifest_record(run_id, suite, job_ids, expected_jobs, submitted_at_ms):
    """A testfleet.v1.RunManifest in protobuf wire format (fields 1-4, 6, 7), written by hand: no protoc here."""
    def varint(n):
        out = bytearray()
        while True:
            byte, n = n & 0x7F, n >> 7
            out.append(byte | (0x80 if n else 0))
            if not n:
                return bytes(out)

    def text(field, value):
        data = value.encode()
        return varint(field << 3 | 2) + varint(len(data)) + data

    record = varint(1 << 3) + varint(1) + text(2, run_id) + text(3, suite)
    if expected_jobs:
        record += varint(4 << 3) + varint(expected_jobs)
    record += varint(6 << 3) + varint(submitted_at_ms)
    for job in job_ids:
        record += text(7, job)
    return record


def case_ci_native():
    print("under GitHub Actions: labels from GITHUB_*, ::error annotations with file and line, a linked summary")
    with Fleet("ci") as fleet:
        fleet.start_aggregator()
        fleet.start_worker("w1", 1)
        suite = write_suite(fleet.dir, "ci.yaml", "\n".join([
            "name: ci",
            "tests:",
            "  - name: cart",
            "    junit: report.xml",
            "    command: |",
            "      printf '<testsuite><testcase classname=\"Cart\" name=\"totals\" file=\"tests/cart.py\" "
            "line=\"17\"><failure message=\"100%% wrong: 3, not 4\"/></testcase>"
            "<testcase classname=\"Cart\" name=\"adds\"/></testsuite>' > report.xml; exit 1",
        ]) + "\n")
        env = {**os.environ, "GITHUB_ACTIONS": "true", "GITHUB_SHA": "0123abc", "GITHUB_REF_NAME": "main",
               "GITHUB_REPOSITORY": "acme/shop", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_RUN_ID": "42"}
        markdown = os.path.join(fleet.dir, "summary.md")
        cmd = [fleet.bin("testfleet"), "--brokers", BROKERS, "--topic-prefix", fleet.prefix, "submit", suite,
               "--aggregator", f"http://127.0.0.1:{fleet.port}", "--wait", "--markdown", markdown,
               "--public-url", "https://fleet.example/", "--label", "branch=mine", "--stall-timeout", "2m"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
        check(r.returncode == 1, f"a failing test exits 1 ({r.returncode}: {r.stderr[-300:]})")
        annotations = [l for l in r.stdout.splitlines() if l.startswith("::")]
        check(annotations == ["::error file=tests/cart.py,line=17,title=failed%3A Cart%3A%3Atotals (cart)::"
                              "100%25 wrong: 3, not 4"],
              f"one ::error for the failing test, with its file and line, escaped: {annotations}")
        run_id = r.stdout.splitlines()[0].strip()
        labels = json.loads(fleet.api(f"/v1/runs/{run_id}?jobs=false"))["labels"]
        check(labels == {"commit": "0123abc", "branch": "mine", "repository": "acme/shop",
                         "ci_url": "https://github.com/acme/shop/actions/runs/42"},
              f"labels from the GITHUB_* variables, the --label winning: {labels}")
        md = open(markdown, encoding="utf-8").read()
        check(f"[Open run `{run_id}`](https://fleet.example/v1/runs/{run_id}/report.html)" in md,
              "the Markdown summary links the run's report at --public-url")
        check(f"run `{run_id}` · branch: mine · ci_url: https://github.com/acme/shop/actions/runs/42 · commit: 0123abc"
              in md, "and names the run and its labels")
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                           env={k: v for k, v in env.items() if k != "GITHUB_ACTIONS"})
        check(r.returncode == 1 and "::error" not in r.stdout, "outside GitHub Actions: no workflow commands")


def case_run_id_reuse():
    print("a run id names one submission: reused it is refused, and a stray manifest cannot pass a failing suite")
    with Fleet("runid") as fleet:
        fleet.start_aggregator()
        fleet.start_worker("w1", 1)
        passing = write_suite(fleet.dir, "pass.yaml", "name: reuse\ntests:\n  - name: check\n    command: 'true'\n")
        failing = write_suite(fleet.dir, "fail.yaml", "name: reuse\ntests:\n  - name: check\n    command: 'false'\n")
        run_id = f"reused-{os.getpid()}"
        r = fleet.submit(passing, "--run-id", run_id, "--wait", "--stall-timeout", "2m", timeout=300)
        check(r.returncode == 0, f"the first submission with --run-id {run_id} passes ({r.returncode})")
        r = fleet.submit(failing, "--run-id", run_id, "--wait", "--stall-timeout", "2m", timeout=300)
        check(r.returncode == 2, f"the same --run-id again exits 2 (got {r.returncode}: {r.stdout.strip()[-200:]})")
        check("already used" in r.stderr and "omit --run-id" in r.stderr,
              f"the message says to pick another id: {r.stderr.strip()[-300:]}")

        def records(topic):
            out = subprocess.run(["kcat", "-b", BROKERS, "-C", "-t", f"{fleet.prefix}.{topic}", "-o", "beginning",
                                  "-e", "-q", "-f", "%o\n"], capture_output=True, text=True, timeout=60)
            return len([l for l in out.stdout.splitlines() if l.strip()])

        check(records("jobs") == 1 and records("runs") == 1, "the refused submission published nothing")

        def publish_manifest(key, record):
            path = os.path.join(fleet.dir, f"manifest-{random.randrange(1 << 30)}.bin")
            with open(path, "wb") as f:
                f.write(record)
            subprocess.run(["kcat", "-b", BROKERS, "-P", "-t", f"{fleet.prefix}.runs", "-k", key, path],
                           check=True, timeout=30)

        def ingested(run):
            try:
                fleet.api(f"/v1/runs/{run}?jobs=false")
                return True
            except urllib.error.HTTPError:
                return 'testfleet_records_rejected_total{reason="invalid_manifest"} 1' in fleet.api("/metrics")

        # A manifest that lists no jobs, published before the suite: it must not become the run.
        stray = f"stray-{os.getpid()}"
        publish_manifest(stray, manifest_record(stray, "reuse", [], 0, 1))
        wait_until(lambda: ingested(stray), 60, "the aggregator to read the stray manifest")
        r = fleet.submit(failing, "--run-id", stray, "--wait", "--stall-timeout", "2m", timeout=300)
        check(r.returncode == 1 and "1 total, 0 passed, 1 failed" in r.stdout,
              f"a failing suite fails after a manifest with no jobs ({r.returncode}: {r.stdout.strip()[:200]})")

        # A second manifest for a run id, published behind submit's back: ignored and counted; the run stands.
        publish_manifest(run_id, manifest_record(run_id, "impostor", ["jimpostor"], 1, 2))
        wait_until(lambda: 'testfleet_records_ignored_total{reason="duplicate_manifest"} 1' in fleet.api("/metrics"),
                   60, "the second manifest to be counted as ignored")
        run = json.loads(fleet.api(f"/v1/runs/{run_id}"))
        check(run["suite"] == "reuse" and run["passed"] and len(run["jobs"]) == 1,
              "the first manifest still makes the run, which still passed")


def encoded_job(**fields):
    """A testfleet.v1.Job in protobuf wire format, encoded by protoc from text format."""
    enums = {"framework"}
    text = " ".join(f"{k}: {json.dumps(v) if isinstance(v, str) and k not in enums else v}" for k, v in fields.items())
    proto = os.path.join(ARGS.source, "proto")
    out = subprocess.run(["protoc", f"--encode=testfleet.v1.Job", "-I", proto,
                          os.path.join(proto, "testfleet", "v1", "testfleet.proto")],
                         input=text.encode(), capture_output=True, timeout=30, check=True)
    return out.stdout


def case_retry_poison():
    print("retry records due in the year 3000 hold no slot and no line: other jobs, and due retries behind them, run")
    year_3000 = 32503680000000
    with Fleet("retrypoison") as fleet:
        fleet.start_aggregator()
        subprocess.run([fleet.bin("testfleet"), "--brokers", BROKERS, "--topic-prefix", fleet.prefix, "topics"],
                       check=True, capture_output=True, timeout=60)
        records = [(f"poison/far-{i}", encoded_job(schema_version=1, run_id="poison", job_id=f"far-{i}", attempt=2,
                                                  framework="SHELL", name=f"far {i}", command="true",
                                                  not_before_ms=year_3000)) for i in range(150)]
        records.append(("poison/due", encoded_job(schema_version=1, run_id="poison", job_id="due-one", attempt=2,
                                                  framework="SHELL", name="due one", command="true",
                                                  not_before_ms=int(time.time() * 1000))))
        for i, (key, payload) in enumerate(records):
            path = os.path.join(fleet.dir, f"retry-{i}.bin")
            with open(path, "wb") as f:
                f.write(payload)
        # All on one partition, the due one last: behind 150 that are not due.
        files = [os.path.join(fleet.dir, f"retry-{i}.bin") for i in range(len(records))]
        for chunk in range(0, len(files), 50):
            for key_path in files[chunk:chunk + 50]:
                key = records[files.index(key_path)][0]
                subprocess.run(["kcat", "-b", BROKERS, "-P", "-t", f"{fleet.prefix}.retry-1", "-p", "0", "-k", key,
                                key_path], check=True, capture_output=True, timeout=30)
        fleet.start_worker("w1", 2)
        r = fleet.submit(trivial_suite(fleet.dir, 10, "true"), "--wait", "--stall-timeout", "90s", timeout=300)
        check(r.returncode == 0, f"a suite submitted after them runs to the end (exit {r.returncode}: "
                                 f"{(r.stdout + r.stderr).strip()[-200:]})")
        deadline = time.monotonic() + 60
        due_ran = False
        while time.monotonic() < deadline and not due_ran:
            out = subprocess.run(["kcat", "-b", BROKERS, "-C", "-t", f"{fleet.prefix}.results", "-o", "beginning",
                                  "-e", "-q", "-X", "isolation.level=read_committed"], capture_output=True,
                                 timeout=60)
            due_ran = b"due-one" in out.stdout
            time.sleep(0.5)
        check(due_ran, "the due retry record behind them ran")
        with open(os.path.join(fleet.dir, "worker-w1.log")) as f:
            log = f.read()
        check("later than its topic's delay allows" in log, "the worker says a retry record was due too late")


def case_big_results():
    print("results of any size: 50,000 cases and a 3.5 MiB artifact each get their verdict, every case stored, one run")
    budget = 900 << 10  # the worker's default --result-record-bytes; the broker's own limit is ~1 MiB
    with Fleet("big") as fleet:
        fleet.start_aggregator()
        fleet.start_worker("w1", 2)
        suite = write_suite(fleet.dir, "big.yaml", "\n".join([
            "name: big",
            "tests:",
            "  - name: fifty thousand cases",
            "    junit: report.xml",
            "    command: |",
            "      python3 - <<'PY'",
            "      with open('report.xml', 'w') as w:",
            "          w.write('<testsuite>')",
            "          for i in range(50000):",
            "              failure = f'<failure message=\"boom {i}\">expected 0</failure>' if i % 100 == 7 else ''",
            "              w.write(f'<testcase classname=\"big.module{i % 100}\" name=\"test_{i}\">{failure}</testcase>')",
            "          w.write('</testsuite>')",
            "      PY",
            "  - name: a 3.5 MiB artifact",
            "    artifacts: [big.bin]",
            "    command: head -c 3670016 /dev/urandom > big.bin && sha256sum big.bin",
        ]) + "\n")
        started = time.monotonic()
        r = fleet.submit(suite, "--wait", "--json", os.path.join(fleet.dir, "run.json"), "--junit",
                         os.path.join(fleet.dir, "junit.xml"), timeout=600)
        took = time.monotonic() - started
        totals = [line for line in r.stdout.splitlines() if " total" in line]
        check(r.returncode == 1 and "50001 total" in r.stdout and "500 failed" in r.stdout,
              f"both jobs have their verdict in {took:.1f} s, exit 1 for the 500 failing cases "
              f"({r.returncode}: {totals or r.stderr[-300:]!r})")
        report = json.load(open(os.path.join(fleet.dir, "run.json")))
        by_name = {j["name"]: j for j in report["jobs"]}
        many = by_name.get("fifty thousand cases", {})
        cases = many.get("cases", [])
        check(many.get("verdict") == "failed" and len(cases) == 50000
              and sum(c["status"] == "failed" for c in cases) == 500
              and cases[-1]["name"] == "test_49999" and cases[7]["message"] == "boom 7",
              f"all 50,000 cases stored, in order, 500 failing ({len(cases)})")
        try:
            counts = junit_counts(os.path.join(fleet.dir, "junit.xml"))
        except ET.ParseError as e:
            counts = str(e)
        check(counts == {"tests": 50001, "failures": 500, "errors": 0, "skipped": 0}, f"junit.xml counts them: {counts}")
        art = by_name.get("a 3.5 MiB artifact", {})
        listed = art.get("artifacts", [])
        check(art.get("verdict") == "passed" and listed == [{"path": "big.bin", "size": 3670016, "truncated": False}],
              f"the artifact job passed, its artifact whole ({listed})")
        with urllib.request.urlopen(f"http://127.0.0.1:{fleet.port}/v1/runs/{report['run_id']}/jobs/"
                                    f"{art.get('job_id')}/artifacts/big.bin", timeout=30) as resp:
            body = resp.read()
        check(len(body) == 3670016 and hashlib.sha256(body).hexdigest() in art.get("stdout_tail", ""),
              f"the artifacts endpoint gives it back byte for byte ({len(body)} bytes)")
        sizes = subprocess.run(["kcat", "-b", BROKERS, "-C", "-t", f"{fleet.prefix}.results", "-o", "beginning", "-e",
                                "-q", "-X", "isolation.level=read_committed", "-f", "%S\n"],
                               capture_output=True, text=True, timeout=60).stdout.split()
        sizes = [int(n) for n in sizes]
        check(len(sizes) > 2 and max(sizes) <= budget,
              f"the results went as {len(sizes)} records of at most {budget} bytes: {sizes}")
        commits = [line.strip().split("] ", 1)[-1] for line in open(os.path.join(fleet.dir, "worker-w1.log"))
                   if "committed in" in line.strip()]
        print("  " + "\n  ".join(commits))
        log = open(os.path.join(fleet.dir, "worker-w1.log")).read()
        runs = {name: log.count(f"/{name} attempt 1:") for name in by_name}
        check(all(n == 1 for n in runs.values()) and "not committed" not in log and "too large" not in log,
              f"each job ran once and was committed the first time ({runs})")
        check(all(j["attempt"] == 1 and "attempts" not in j for j in report["jobs"]), "one attempt each, stored once")


def case_sigstopped_worker():
    print("a worker stopped past its session timeout does not commit jobs another worker took over")
    with Fleet("sigstop") as fleet:
        fleet.start_aggregator()
        w1 = fleet.start_worker("w1", 2)
        sub = fleet.submit_async(trivial_suite(fleet.dir, 6, "sleep 4"), "--wait", "--stall-timeout", "3m")
        run_id = sub.stdout.readline().strip()
        log_path = os.path.join(fleet.dir, "worker-w1.log")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until w1 is in the group and the run is published
            with open(log_path) as f:
                if "assigned" in f.read() and run_id:
                    break
            time.sleep(0.1)
        running = lambda: len(subprocess.run(["pgrep", "-x", "-f", "sleep 4"], capture_output=True,
                                             text=True).stdout.split())
        wait_until(lambda: running() >= 2, 60, "both of w1's slots to be inside a 4-second job")
        w1.send_signal(signal.SIGSTOP)
        fleet.start_worker("w2", 2)
        # Past the 10 s session timeout the group drops w1 and gives all its partitions (12 jobs + 3 x 3 retry) to w2.
        w2_log = os.path.join(fleet.dir, "worker-w2.log")
        wait_until(lambda: re.search(r"assigned \d+ partition\(s\); now 21", open(w2_log).read()), 90,
                   "w2 to own every partition")
        w1.send_signal(signal.SIGCONT)
        out, err = sub.communicate(timeout=300)
        check(sub.returncode == 0, f"the run passes (exit {sub.returncode}: {err.strip()[-200:]})")
        committed = fleet.committed_results()
        check(len(committed) == 6, f"6 jobs, {len(committed)} results on the read_committed results topic")
        with open(log_path) as f:
            log = f.read()
        refused = [l.split("] ", 1)[-1][:110] for l in log.splitlines()
                   if "the group dropped this worker" in l or "not committed" in l or "revoked while" in l]
        check(bool(refused), f"the stopped worker did not commit what it finished while stopped ({refused[:2]})")


def case_refused_for_good():
    print("records Kafka refuses for good end the job with a final ERROR and a dead letter, never a loop")
    with Fleet("refused") as fleet:
        fleet.start_aggregator()
        # One record per result up to 8 MiB: the broker (about 1 MiB) refuses the job's result every time.
        fleet.start_worker("w1", 1, "--result-record-bytes", "8Mi")
        suite = write_suite(fleet.dir, "refused.yaml", "\n".join([
            "name: refused",
            "tests:",
            "  - name: a 2 MiB artifact",
            "    artifacts: [big.bin]",
            "    command: head -c 2097152 /dev/urandom > big.bin",
        ]) + "\n")
        r = fleet.submit(suite, "--wait", "--stall-timeout", "90s", "--json", os.path.join(fleet.dir, "run.json"),
                         timeout=300)
        check(r.returncode == 1, f"the run ends with a failing verdict (exit {r.returncode})")
        run = {}
        if os.path.exists(os.path.join(fleet.dir, "run.json")):
            with open(os.path.join(fleet.dir, "run.json")) as f:
                run = json.load(f)
        jobs = run.get("jobs", [])
        check(len(jobs) == 1 and str(jobs[0].get("verdict")).upper() == "ERROR" and "refused for good" in json.dumps(jobs[0]),
              f"the job is a final ERROR that says why ({[(j.get('verdict'), j.get('error', '')[:80]) for j in jobs]})")
        with open(os.path.join(fleet.dir, "worker-w1.log")) as f:
            runs = f.read().count("attempt 1: PASSED")
        check(runs == 1, f"the job ran once, not in a loop ({runs} runs)")
        letters = json.loads(subprocess.run(
            [fleet.bin("testfleet"), "--brokers", BROKERS, "--topic-prefix", fleet.prefix, "dlq", "list", "--json"],
            capture_output=True, text=True, timeout=120).stdout or "[]")
        check(any("could not be written" in d["reason"] for d in letters), f"a dead letter says why ({len(letters)})")


def readyz_body(base):
    """/readyz's answer, whatever its status."""
    try:
        with urllib.request.urlopen(base + "/readyz", timeout=10) as r:
            return r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.read().decode(errors="replace")


def http_status(url, method="GET", data=None):
    req = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def case_api_token():
    """With --api-token-file, uploads need the token (submit sends it); reads stay open; the token is never logged."""
    import hashlib
    print("API token: writes need it, submit sends it, reads stay open")
    with Fleet("token") as fleet:
        token = "tf-" + os.urandom(16).hex()
        token_file = write_suite(fleet.dir, "api-token", token + "\n")
        fleet.start_aggregator("--api-token-file", token_file)
        fleet.start_worker("w1", 2)
        os.makedirs(os.path.join(fleet.dir, "project"))
        write_suite(os.path.join(fleet.dir, "project"), "test_ok.py", "def test_ok():\n    pass\n")
        suite = write_suite(fleet.dir, "bundled.yaml", "name: bundled\ntests:\n  - name: ok\n    framework: pytest\n"
                                                        "    root: project\n")
        r = fleet.submit(suite, "--wait")
        check(r.returncode == 2 and "--api-token-file" in r.stderr,
              f"submit without the token is refused before anything is published (exit {r.returncode}): "
              f"{r.stderr.strip()[-300:]}")
        r = fleet.submit(suite, "--wait", "--api-token-file", token_file)
        check(r.returncode == 0, f"submit with --api-token-file uploads the bundle and passes (exit {r.returncode}): "
                                 f"{r.stderr.strip()[-300:]}")
        body = b"not a bundle"
        url = f"http://127.0.0.1:{fleet.port}/v1/blobs/{hashlib.sha256(body).hexdigest()}"
        check(http_status(url, "PUT", body) == 401, "an upload without the token is refused (401)")
        check(http_status(f"http://127.0.0.1:{fleet.port}/v1/runs") == 200, "reads need no token")
        log = open(os.path.join(fleet.dir, "aggregator.log")).read()
        check(token not in log and token not in r.stderr, "the token appears in no log")


def case_full_disk():
    """The database's disk fills up: the aggregator stops ingesting and says not ready, then resumes by itself."""
    print("full disk: ingest pauses, /readyz says why, the aggregator stays up and resumes when space returns")
    if os.geteuid() != 0:
        print("  skip (mounting a small tmpfs needs root)")
        return
    disk = tempfile.mkdtemp(prefix="testfleet-tmpfs-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", disk], check=True)
    try:
        with Fleet("full") as fleet:
            agg = fleet.start_aggregator("--blobs", os.path.join(disk, "blobs"), "--min-free-gib", "0.004",
                                         db=os.path.join(disk, "results.db"))
            fleet.start_worker("w1", 2)
            base = f"http://127.0.0.1:{fleet.port}"
            # Ready once its results reader has a broker and its partitions (librdkafka's statistics, every 5 s).
            check(wait_until(lambda: http_status(base + "/readyz") == 200, 60, "/readyz to say ready", fail=False),
                  "ready with room on the disk")
            filler = os.path.join(disk, "filler")
            with open(filler, "wb") as f:  # what another process (or an upload flood) would do
                try:
                    while True:
                        f.write(b"\0" * (64 << 10))
                        f.flush()
                except OSError:
                    pass
            check(http_status(f"{base}/v1/blobs/{'0' * 64}", "PUT", b"x" * 1000) == 507,
                  "an upload is refused while the disk is full (507)")
            suite = trivial_suite(fleet.dir, 40, "yes output | head -c 30000")
            run = fleet.submit_async(suite, "--wait", "--stall-timeout", "5m")
            wait_until(lambda: "cannot store results" in readyz_body(base), 120,
                       "/readyz to report that results cannot be stored")
            check(agg.poll() is None, "the aggregator is still running with its disk full")
            check(http_status(base + "/healthz") == 200 and http_status(base + "/v1/runs") == 200,
                  "it still answers /healthz and reads")
            os.remove(filler)
            out, err = run.communicate(timeout=300)
            check(run.returncode == 0 and "40 total, 40 passed" in out,
                  f"the run completes once space returns (exit {run.returncode}): {err.strip()[-300:]}")
            check(wait_until(lambda: http_status(base + "/readyz") == 200, 60, "/readyz to say ready again", fail=False),
                  "ready again")
            log = open(os.path.join(fleet.dir, "aggregator.log")).read()
            check("ingest paused" in log and "ingest resumed" in log, "the log says when ingest paused and resumed")
    finally:
        subprocess.run(["umount", disk], check=False)
        os.rmdir(disk)


class _NotificationReceiver:
    """A local HTTP receiver on a free port: answers the first POST to /hook with 503, later ones with 200, and
    every POST to /repos/… (GitHub's commit statuses) with 201. Keeps what it accepted."""

    def __init__(self):
        import http.server
        import threading
        receiver = self
        self.accepted, self.refused, self.lock = [], 0, threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    if self.path == "/hook" and receiver.refused == 0:
                        receiver.refused += 1
                        status = 503
                    else:
                        receiver.accepted.append((self.path, dict(self.headers), body))
                        status = 201 if self.path.startswith("/repos/") else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def requests_to(self, prefix):
        with self.lock:
            return [r for r in self.accepted if r[0].startswith(prefix)]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def case_notifications():
    """A completed run's webhook is retried after a 503 and arrives once, signed; its GitHub commit status too."""
    import hmac
    print("notifications: a signed webhook (retried after a 503) and a GitHub commit status per completed run")
    receiver = _NotificationReceiver()
    try:
        with Fleet("notify") as fleet:
            secret = "whsec-" + os.urandom(16).hex()
            token = "ghp-" + os.urandom(16).hex()
            secret_file = write_suite(fleet.dir, "webhook-secret", secret + "\n")
            token_file = write_suite(fleet.dir, "github-token", token + "\n")
            fleet.start_aggregator("--webhook", receiver.url + "/hook", "--webhook-secret-file", secret_file,
                                   "--github-token-file", token_file, "--github-api", receiver.url,
                                   "--public-url", "http://ci.example", "--notify-first-retry", "200ms")
            fleet.start_worker("w1", 2)
            suite = write_suite(fleet.dir, "notify.yaml", "name: notify\ntests:\n"
                                "  - name: ok1\n    command: \"true\"\n  - name: ok2\n    command: \"true\"\n"
                                "  - name: broken\n    command: \"false\"\n")
            sha = "0123456789abcdef0123456789abcdef01234567"
            r = fleet.submit(suite, "--wait", "--json", os.path.join(fleet.dir, "run.json"),
                             "--label", "repository=acme/widgets", "--label", f"commit={sha}")
            check(r.returncode == 1, f"the run with a failing test fails (exit {r.returncode}): {r.stderr[-300:]}")
            run = json.load(open(os.path.join(fleet.dir, "run.json")))
            wait_until(lambda: receiver.requests_to("/hook") and receiver.requests_to("/repos/"), 60,
                       "the webhook and the commit status to arrive")
            log = open(os.path.join(fleet.dir, "aggregator.log")).read()
        # The aggregator has stopped: nothing more can arrive.
        hooks = receiver.requests_to("/hook")
        check(receiver.refused == 1 and len(hooks) == 1,
              f"the webhook was refused once (503) and accepted exactly once ({receiver.refused} refused, "
              f"{len(hooks)} accepted)")
        path, headers, body = hooks[0]
        expected = "sha256=" + hmac.new(secret.encode(), body, "sha256").hexdigest()
        check(headers.get("X-Testfleet-Signature") == expected, "the webhook's signature verifies with the secret")
        payload = json.loads(body)
        summary = run["summary"]
        check(payload["run_id"] == run["run_id"] and payload["verdict"] == "failed",
              f"the payload names the run and its verdict: {payload['run_id']} {payload['verdict']}")
        check({k: payload["counts"][k] for k in ("total", "passed", "failed", "skipped", "flaky")} ==
              {k: summary[k] for k in ("total", "passed", "failed", "skipped", "flaky")},
              f"the payload's counts are the run's: {payload['counts']} vs {summary}")
        check(payload["counts"]["passed"] == 2 and payload["counts"]["failed"] == 1, "2 passed, 1 failed")
        check(payload["labels"].get("commit") == sha, "the payload carries the run's labels")
        check(payload.get("link") == f"http://ci.example/v1/runs/{run['run_id']}/report.html",
              "the payload links the report under --public-url")
        statuses = receiver.requests_to("/repos/")
        check(len(statuses) == 1 and statuses[0][0] == f"/repos/acme/widgets/statuses/{sha}",
              f"one commit status to the run's repository and commit: {[s[0] for s in statuses]}")
        if statuses:
            status = json.loads(statuses[0][2])
            check(statuses[0][1].get("Authorization") == f"Bearer {token}", "the commit status carries the token")
            check(status["state"] == "failure" and status["context"] == "testfleet", f"state and context: {status}")
        check(secret not in log and token not in log, "neither the secret nor the token appears in the log")
    finally:
        receiver.close()


def case_cancel():
    print("cancel: `testfleet cancel` and SIGTERM of submit --wait end a run CANCELLED; its jobs stop, the worker "
          "takes the next run")
    with Fleet("cancel") as fleet:
        fleet.start_aggregator()
        fleet.start_worker("w1", 2)
        suite = trivial_suite(fleet.dir, 6, "sleep 30")

        def cancelled_in_api(run_id):
            try:
                run = json.loads(fleet.api(f"/v1/runs/{run_id}"))
            except urllib.error.HTTPError as e:  # 404 until the aggregator has read the run's manifest
                if e.code == 404:
                    return None
                raise
            return run if run["state"] == "cancelled" and run["jobs_done"] == run["expected_jobs"] else None

        def sleeping():
            return subprocess.run(["pgrep", "-x", "-f", "sleep 30"], capture_output=True).returncode == 0

        # `testfleet cancel` while submit --wait follows the run.
        sub = fleet.submit_async(suite, "--wait", "--json", os.path.join(fleet.dir, "cancelled.json"))
        run_id = sub.stdout.readline().strip()
        wait_until(sleeping, 30, "a job of the first run to be running")
        cancelled_at = time.monotonic()
        r = subprocess.run([fleet.bin("testfleet"), "--brokers", BROKERS, "--topic-prefix", fleet.prefix, "cancel",
                            run_id], capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, f"testfleet cancel exits 0 ({r.returncode}: {r.stderr.strip()[-300:]})")
        run = wait_until(lambda: cancelled_in_api(run_id), 20, "the run to be cancelled with every job reported")
        check(time.monotonic() - cancelled_at < 20, "the API shows it cancelled, every job reported, within 20 s")
        check(run["passed"] is False, "a cancelled run did not pass")
        verdicts = [j["verdict"] for j in run["jobs"]]
        check(verdicts == ["cancelled"] * 6, f"every job is cancelled, none ran to its end: {verdicts}")
        out, err = sub.communicate(timeout=60)
        check(sub.returncode == 4, f"submit --wait of the cancelled run exits 4 ({sub.returncode}: {err[-300:]})")
        check("CANCELLED" in out, "its summary says the run was cancelled")
        check(json.load(open(os.path.join(fleet.dir, "cancelled.json")))["state"] == "cancelled",
              "the JSON report's state is cancelled")
        wait_until(lambda: not sleeping(), 10, "the cancelled jobs' processes to be gone")

        # SIGTERM of submit --wait cancels the run it published, waits for it to end and still writes the reports.
        junit = os.path.join(fleet.dir, "interrupted.xml")
        sub = fleet.submit_async(suite, "--wait", "--junit", junit)
        second = sub.stdout.readline().strip()
        wait_until(sleeping, 30, "a job of the second run to be running")
        sub.send_signal(signal.SIGTERM)
        out, err = sub.communicate(timeout=60)
        check(sub.returncode == 4, f"submit --wait exits 4 on SIGTERM ({sub.returncode}: {err[-300:]})")
        check(f"run {second} cancelled" in err, "it says it cancelled its run")
        check("CANCELLED" in out, "it waited for the run to end and printed its summary")
        check(os.path.exists(junit) and "cancelled" in open(junit).read().lower(),
              "the interrupted submit wrote its JUnit report, which shows the cancelled jobs")
        run = wait_until(lambda: cancelled_in_api(second), 20, "the second run to be cancelled")
        check(all(j["verdict"] == "cancelled" for j in run["jobs"]), "every job of the second run is cancelled")

        # The worker is free for the next run, which passes.
        quick = trivial_suite(fleet.dir, 3, "true")
        r = fleet.submit(quick, "--wait", timeout=120)
        check(r.returncode == 0 and "3 total, 3 passed" in r.stdout, f"the next run passes ({r.returncode})")

        # With no worker to stop its jobs, an interrupted submit gives up after --cancel-grace, without reports.
        fleet.procs.pop("w1").terminate()
        sub = fleet.submit_async(quick, "--wait", "--cancel-grace", "2", "--junit", junit + ".none")
        sub.stdout.readline()
        time.sleep(1)
        signalled = time.monotonic()
        sub.send_signal(signal.SIGINT)
        out, err = sub.communicate(timeout=60)
        check(sub.returncode == 4 and "exiting without reports" in err and not os.path.exists(junit + ".none"),
              f"with no worker it exits 4 after the grace, writing no report ({sub.returncode}: {err[-300:]})")
        check(time.monotonic() - signalled < 15, "it exits a few seconds after the signal, not at the run's deadline")


def case_load_errors():
    print("tests that cannot be loaded are errored cases carrying the exception: pytest, unittest, node, jest")
    with Fleet("loaderrors") as fleet:
        fleet.start_aggregator()
        fleet.start_worker("w1", 2)
        missing = "import no_such_module_xyz\n"
        passing_py = "def test_a():\n    pass\n"
        suite = write_suite(fleet.dir, "load-errors.yaml", "\n".join([
            "name: load-errors",
            "tests:",
            "  - name: pytest, a conftest that cannot import",
            "    framework: pytest",
            f"    files: {{conftest.py: {json.dumps(missing)}, test_a.py: {json.dumps(passing_py)}}}",
            "  - name: pytest, a test module that cannot import",
            "    framework: pytest",
            f"    files: {{test_a.py: {json.dumps(passing_py)}, test_b.py: {json.dumps(missing + passing_py)}}}",
            "  - name: unittest, a test module that cannot import",
            "    framework: unittest",
            "    files: {test_b.py: " + json.dumps(missing + "import unittest\nclass T(unittest.TestCase):\n"
                                                   "    def test_b(self):\n        pass\n") + "}",
            "  - name: node, a file that throws while loading",
            "    framework: node",
            "    files: {a.test.js: " + json.dumps("const test = require('node:test');\ntest('a', () => {});\n") +
            ", c.test.js: " + json.dumps("require('node:test');\nthrow new Error('boom at load');\n") + "}",
            "  - name: jest, a file that cannot require",
            "    framework: jest",
            "    files: {b.test.js: " + json.dumps("require('no-such-module-xyz');\ntest('b', () => {});\n") + "}",
        ]) + "\n")
        report = os.path.join(fleet.dir, "run.json")
        r = fleet.submit(suite, "--wait", "--json", report, timeout=300)
        check(r.returncode == 1, f"the run failed ({r.returncode}: {r.stdout[-300:]!r} {r.stderr[-300:]!r})")
        jobs = {j["name"]: j for j in json.load(open(report))["jobs"]} if os.path.exists(report) else {}
        expected = {"pytest, a conftest that cannot import": "ModuleNotFoundError: No module named 'no_such_module_xyz'",
                    "pytest, a test module that cannot import": "ModuleNotFoundError: No module named 'no_such_module_xyz'",
                    "unittest, a test module that cannot import":
                        "ModuleNotFoundError: No module named 'no_such_module_xyz'",
                    "node, a file that throws while loading": "Error: boom at load",
                    "jest, a file that cannot require": "Cannot find module 'no-such-module-xyz'"}
        for name, text in expected.items():
            job = jobs.get(name, {})
            errored = [c for c in job.get("cases", []) if c.get("errored")]
            check(job.get("verdict") == "failed" and len(errored) == 1 and errored[0].get("message", "").count(text) == 1,
                  f"{name}: failed, one errored case whose message has {text!r} once "
                  f"({job.get('verdict')}, {[(c.get('name'), c.get('message')) for c in job.get('cases', [])]})")
        conftest = jobs.get("pytest, a conftest that cannot import", {})
        check("No module named 'no_such_module_xyz'" in conftest.get("error", ""),
              f"pytest's exit 4 names the exception in the job's error ({conftest.get('error')!r})")


def case_pytest_collection():
    print("a pytest directory runs what pytest's own config collects: testpaths, python_files, --doctest-modules")
    with Fleet("collect") as fleet:
        fleet.start_aggregator()
        fleet.start_worker("w1", 2)
        project = os.path.join(fleet.dir, "project")
        files = {"pytest.ini": "[pytest]\ntestpaths = tests src\npython_files = check_*.py test_*.py\n"
                               "addopts = --doctest-modules\n",
                 "tests/test_a.py": "def test_a():\n    pass\n",
                 "tests/sub/check_c.py": "def test_c():\n    pass\n",
                 "bench/test_slow.py": "def test_slow():\n    assert False, 'the project never runs bench/'\n",
                 "src/pkg/__init__.py": "",
                 "src/pkg/mod.py": "def f():\n    \"\"\"\n    >>> f()\n    1\n    \"\"\"\n    return 1\n",
                 "suite.yaml": "name: collect\ndirectory:\n  root: .\n  framework: pytest\n"}
        for name, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(project, name)), exist_ok=True)
            with open(os.path.join(project, name), "w") as f:
                f.write(text)
        report = os.path.join(fleet.dir, "run.json")
        r = fleet.submit(os.path.join(project, "suite.yaml"), "--wait", "--json", report, timeout=300)
        jobs = sorted((j["name"], j["verdict"]) for j in json.load(open(report))["jobs"]) if os.path.exists(report) else []
        check(r.returncode == 0 and jobs == [("src/pkg/mod.py", "passed"), ("tests/sub/check_c.py", "passed"),
                                             ("tests/test_a.py", "passed")],
              f"pytest chose the files: the doctest module and check_c.py in, bench/ out ({r.returncode}, {jobs})")
        check("pytest's collection chose 3 files" in r.stderr, f"submit says who chose them ({r.stderr[-300:]!r})")


def case_environment():
    """A src-layout project whose tests need packages from PyPI: its environment is prepared once per worker and
    every job imports it with no setup; a second run prepares nothing; a preparation that fails is an ERROR."""
    print("environment: prepared once from PyPI, mounted read-only, reused by the next run")
    with Fleet("environment") as fleet:
        fleet.start_aggregator()
        status_port = free_port()
        fleet.start_worker("w1", 2, "--http", f"127.0.0.1:{status_port}", "--max-attempts", "1")
        project = os.path.join(fleet.dir, "project")
        shutil.copytree(os.path.join(ARGS.source, "examples", "environment"), project)
        suite = os.path.join(project, "suite.yaml")
        declared = "".join(line for line in open(suite) if not line.lstrip().startswith("#"))
        check("setup" not in declared and "PYTHONPATH" not in declared and "env:" not in declared,
              f"the example needs no setup and no PYTHONPATH of its own: {declared}")
        log = os.path.join(fleet.dir, "worker-w1.log")
        runs = []
        for n in (1, 2):
            report, junit = os.path.join(fleet.dir, f"run{n}.json"), os.path.join(fleet.dir, f"run{n}.xml")
            r = fleet.submit(suite, "--wait", "--json", report, "--junit", junit)
            check(r.returncode == 0, f"run {n} passes (exit {r.returncode}): {r.stdout[-800:]} {r.stderr[-400:]}")
            jobs = json.load(open(report))["jobs"] if os.path.exists(report) else []
            runs.append(jobs)
            check(len(jobs) == 2 and all(j["verdict"] == "passed" for j in jobs),
                  f"run {n}: both test files pass with the environment importable: "
                  f"{[(j['name'], j['verdict'], j['error'][:300], j['stdout_tail'][-300:]) for j in jobs]}")
            envs = [j.get("environment", {}) for j in jobs]
            keys = {e.get("sha256") for e in envs}
            check(len(keys) == 1 and len(next(iter(keys)) or "") == 64, f"run {n}: one environment key for all ({keys})")
            packages = set(envs[0].get("packages", []))
            check({"attrs==23.2.0", "tomli_w==1.0.0"} <= {p.lower().replace("-", "_") for p in packages},
                  f"run {n}: the report names the packages ({sorted(packages)})")
            props = {p.get("name"): p.get("value") for p in ET.parse(junit).getroot().iter("property")}
            check(props.get("environment") in keys and "attrs==23.2.0" in props.get("environment.packages", ""),
                  f"run {n}: the JUnit properties name the environment ({props.get('environment')})")
        check(sum(j["environment"]["prepared"] for j in runs[0]) == 1,
              "the first run's two jobs prepared the environment once (the other slot waited for it)")
        check(not any(j["environment"]["prepared"] for j in runs[1]), "the second run prepared nothing")
        text = open(log).read()
        check(text.count("preparing environment") == 1 and "nothing to prepare" in text,
              "the worker log says it prepared once, and that the second run had nothing to prepare")
        with urllib.request.urlopen(f"http://127.0.0.1:{status_port}/metrics", timeout=10) as resp:
            metrics = resp.read().decode()
        check('testfleet_worker_environments_total{outcome="prepared"} 1' in metrics and
              'testfleet_worker_environments_total{outcome="reused"} 3' in metrics,
              "the worker's metrics count one preparation and three reuses")
        check(all(j["wall_ms"] < 20000 for j in runs[1]), f"reused jobs install nothing "
              f"({[j['wall_ms'] for j in runs[1]]} ms)")

        with open(os.path.join(project, "requirements.txt"), "w") as f:
            f.write("testfleet-no-such-package-anywhere==0.0.1\n")
        report = os.path.join(fleet.dir, "bad.json")
        r = fleet.submit(suite, "--wait", "--json", report)
        jobs = json.load(open(report))["jobs"] if os.path.exists(report) else []
        check(r.returncode != 0 and jobs and all(j["verdict"] == "error" and j["stage"] == "environment"
                                                   for j in jobs),
              f"a preparation that fails is an ERROR at stage environment (exit {r.returncode}: "
              f"{[(j['verdict'], j['stage']) for j in jobs]})")
        check(all("testfleet-no-such-package-anywhere" in j["error"] for j in jobs),
              f"its error carries pip's output ({jobs[0]['error'][-300:] if jobs else ''})")
        trees = os.path.join(fleet.dir, "work", "w1", "environments", "trees")
        check(len([d for d in os.listdir(trees) if not d.endswith(".lock")]) == 1,
              f"no half-written tree is left ({os.listdir(trees)})")


CASES = {
    "demo": case_demo_suite,
    "zygotes": case_zygotes,
    "ci_native": case_ci_native,
    "malformed": case_malformed_suite,
    "stalled": case_stalled,
    "drain": case_graceful_stop,
    "kill": case_200_with_worker_killed,
    "aggregator": case_aggregator_restart,
    "dlq": case_dead_letters,
    "bundles": case_bundles,
    "whole_folders": case_whole_folders,
    "bytes": case_any_bytes,
    "runid": case_run_id_reuse,
    "retry_poison": case_retry_poison,
    "sigstop": case_sigstopped_worker,
    "refused": case_refused_for_good,
    "big": case_big_results,
    "token": case_api_token,
    "fulldisk": case_full_disk,
    "notify": case_notifications,
    "cancel": case_cancel,
    "load_errors": case_load_errors,
    "pytest_collection": case_pytest_collection,
    "environment": case_environment,
}


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("cases", nargs="*", default=list(CASES))
    ARGS = parser.parse_args()
    for name in ARGS.cases:
        try:
            CASES[name]()
        except Exception as e:  # a case that blew up is a failure, and the others still run
            FAILURES.append(f"{name}: {e!r}")
            print(f"  FAIL {name}: {e!r}")
    print(f"{len(FAILURES)} failed checks")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
