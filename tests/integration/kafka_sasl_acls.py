#!/usr/bin/env python3
"""testfleet against a broker with SASL and ACLs (StandardAuthorizer, KRaft), as operators run Kafka.

Starts a second local broker of its own (scripts/kafka.sh in SASL mode, on free ports and a temp data dir; the
shared broker is never touched) with four users, gives each service's user only the ACLs it needs, and checks:
  - a least-privilege client is told to use --no-create-topics, and with it a missing topic is named;
  - a worker's credentials cannot write the runs or jobs topics, a submitter's cannot write results;
  - a run submitted with the submitter's credentials completes on a worker and an aggregator that have their own,
    each given another way (-X, TESTFLEET_RDKAFKA_* variables, the config file's kafka: map with @file secrets);
  - the worker's and the aggregator's /readyz answer 200 once they can work, with no secret in any log.
Stops its broker and removes its data at the end, whatever happened.

The users exist for SCRAM-SHA-256 (created at format time; the ACLs are made through it, by Kafka's Java admin
client) and for PLAIN, which testfleet uses here: librdkafka before 2.6.1 — Debian 12's 2.0.2, which testfleet
links — fails SCRAM against Kafka 4.x brokers (librdkafka#4895, a nonce sent twice).
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
import time
import urllib.error
import urllib.request

FAILURES = []
USERS = {"admin": "admin-pw-1", "worker": "worker-pw-2", "submitter": "submitter-pw-3", "aggregator": "aggr-pw-4"}
PREFIX = "ops"


def check(condition, message):
    print(f"  {'ok  ' if condition else 'FAIL'} {message}")
    if not condition:
        FAILURES.append(message)


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def free_port_pair():
    """A port whose next one is free too (the broker's controller listens there)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise RuntimeError("no two free ports in a row")


def http_status(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


def sasl(user):
    return ["-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanism=PLAIN",
            "-X", f"sasl.username={user}", "-X", f"sasl.password={USERS[user]}"]


class Cluster:
    def __init__(self, args, work):
        self.args, self.work = args, work
        self.port = free_port_pair()
        self.brokers = f"127.0.0.1:{self.port}"
        self.env = dict(os.environ, TESTFLEET_KAFKA_PORT=str(self.port), TESTFLEET_KAFKA_DIR=f"{work}/kafka",
                        TESTFLEET_KAFKA_SCRAM_USERS=" ".join(f"{u}:{p}" for u, p in USERS.items()))
        self.script = os.path.join(args.source, "scripts/kafka.sh")

    def start(self):
        subprocess.run([self.script, "start"], env=self.env, check=True, timeout=120)

    def stop(self):
        subprocess.run([self.script, "wipe"], env=self.env, timeout=120)

    def bin(self, name):
        return os.path.join(self.args.build, {"testfleet": "producer", "testfleet-worker": "worker",
                                              "testfleet-aggregator": "aggregator"}[name], name)

    def cli(self, user, *args, prefix=PREFIX):
        return subprocess.run([self.bin("testfleet"), "--brokers", self.brokers, "--topic-prefix", prefix,
                               *sasl(user), *args], capture_output=True, text=True, timeout=120)

    def grant(self, *bindings):
        props = os.path.join(self.work, "admin.properties")
        with open(props, "w") as f:
            f.write(f"bootstrap.servers={self.brokers}\nsecurity.protocol=SASL_PLAINTEXT\n"
                    "sasl.mechanism=SCRAM-SHA-256\nsasl.jaas.config=org.apache.kafka.common.security.scram."
                    f'ScramLoginModule required username="admin" password="{USERS["admin"]}";\n')
        jars = os.environ.get("TESTFLEET_KAFKA_LIBS", os.path.expanduser("~/.cache/testfleet/kafka-4.4.0"))
        classpath = ":".join(os.path.join(jars, j) for j in sorted(os.listdir(jars)) if j.endswith(".jar"))
        subprocess.run(["java", "-Xmx256m", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", classpath,
                        os.path.join(self.args.source, "tests/integration/KafkaAcls.java"), props, *bindings],
                       check=True, timeout=120)

    def produce(self, user, topic):
        """Writes one record as `user` with kcat; (exit code, what it said)."""
        r = subprocess.run(["kcat", "-b", self.brokers, "-X", "security.protocol=SASL_PLAINTEXT",
                            "-X", "sasl.mechanisms=PLAIN", "-X", f"sasl.username={user}",
                            "-X", f"sasl.password={USERS[user]}", "-P", "-k", "probe", "-t", topic],
                           input="x\n", capture_output=True, text=True, timeout=60)
        return r.returncode, r.stdout + r.stderr


def acls():
    """Each service's user gets what it needs and no more (docs/operations.md lists the same)."""
    t = lambda name: f"{PREFIX}.{name}"
    retries = [t(f"retry-{i}") for i in (1, 2, 3)]
    out = []
    for user in ("worker", "submitter", "aggregator"):
        out.append(f"User:{user}:Describe:topic:prefixed:{PREFIX}.")
    out += [f"User:worker:Read:topic:literal:{name}" for name in [t("jobs"), *retries, t("control")]]
    out += [f"User:worker:Write:topic:literal:{name}" for name in [t("results"), *retries, t("dlq")]]
    out += [f"User:worker:Read:group:literal:{PREFIX}-workers",
            f"User:worker:Read:group:prefixed:testfleet-worker-",  # the control topic's reader
            f"User:worker:Write:transactional-id:prefixed:{PREFIX}-worker-",
            f"User:worker:Describe:transactional-id:prefixed:{PREFIX}-worker-"]
    out += [f"User:submitter:Write:topic:literal:{name}" for name in [t("runs"), t("jobs"), t("control")]]
    out += ["User:submitter:Read:group:prefixed:testfleet-cli"]
    out += [f"User:aggregator:Read:topic:literal:{name}" for name in [t("results"), t("runs"), t("control")]]
    out += [f"User:aggregator:Write:topic:literal:{name}" for name in [t("dlq"), t("control")]]
    out += ["User:aggregator:Read:group:prefixed:testfleet-aggregator"]
    return out


def run(args):
    work = tempfile.mkdtemp(prefix="testfleet-sasl-")
    os.chmod(work, 0o711)  # jobs run as uids of their own
    cluster = Cluster(args, work)
    procs = []
    began = time.monotonic()
    try:
        cluster.start()
        print(f"  broker with SASL (SCRAM, PLAIN) and ACLs up on {cluster.brokers} after {time.monotonic() - began:.0f}s")

        r = cluster.cli("submitter", "topics")
        check(r.returncode != 0 and "--no-create-topics" in r.stderr,
              f"a client that may not create topics is told about --no-create-topics: {r.stderr.strip()[-200:]}")
        r = cluster.cli("admin", "--replication-factor", "1", "--partitions", "jobs=4", "topics")
        check(r.returncode == 0, f"the admin creates the topics: {r.stdout.strip()} {r.stderr.strip()}")
        r = cluster.cli("admin", "--no-create-topics", "topics", prefix="elsewhere")
        check(r.returncode != 0 and "elsewhere.jobs" in r.stderr,
              f"--no-create-topics names a missing topic: {r.stderr.strip()[-200:]}")
        cluster.grant(*acls())

        for user, topic in [("worker", "runs"), ("worker", "jobs"), ("submitter", "results")]:
            code, said = cluster.produce(user, f"{PREFIX}.{topic}")
            check(code != 0 and "authoriz" in said.lower(),
                  f"{user}'s credentials cannot write {PREFIX}.{topic}: {said.strip()[-120:]}")
        code, said = cluster.produce("submitter", f"{PREFIX}.runs")
        check(code == 0, f"the submitter's can write {PREFIX}.runs (the check can fail): {said.strip()[-120:]}")

        # The aggregator: credentials in its config file, the password from a file.
        secret = os.path.join(work, "aggregator.password")
        with open(secret, "w") as f:
            f.write(USERS["aggregator"] + "\n")
        config = os.path.join(work, "aggregator.yaml")
        with open(config, "w") as f:
            f.write(f"brokers: {cluster.brokers}\ntopic-prefix: {PREFIX}\nno-create-topics: true\nkafka:\n"
                    "  security.protocol: SASL_PLAINTEXT\n  sasl.mechanism: PLAIN\n"
                    f"  sasl.username: aggregator\n  sasl.password: '@{secret}'\n")
        aggregator_log = open(os.path.join(work, "aggregator.log"), "w")
        agg = subprocess.Popen([cluster.bin("testfleet-aggregator"), "--config", config, "--port", "0",
                                "--db", os.path.join(work, "results.db"), "--log-level", "debug"],
                               stdout=subprocess.PIPE, stderr=aggregator_log, text=True)
        procs.append(agg)
        line = agg.stdout.readline()
        assert line.startswith("listening on http://"), f"aggregator did not start: {line!r}"
        api = line.strip().split(" ", 2)[2]

        # The worker: credentials from TESTFLEET_RDKAFKA_* variables.
        worker_log = open(os.path.join(work, "worker.log"), "w")
        status = free_port_pair()
        worker_env = dict(os.environ, TESTFLEET_RDKAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
                          TESTFLEET_RDKAFKA_SASL_MECHANISM="PLAIN", TESTFLEET_RDKAFKA_SASL_USERNAME="worker",
                          TESTFLEET_RDKAFKA_SASL_PASSWORD=USERS["worker"])
        procs.append(subprocess.Popen(
            [cluster.bin("testfleet-worker"), "--brokers", cluster.brokers, "--topic-prefix", PREFIX,
             "--no-create-topics", "--id", "w1", "--slots", "1", "--work-dir", os.path.join(work, "work"),
             "--aggregator", api, "--http", f"127.0.0.1:{status}", "--log-level", "debug"],
            stdout=worker_log, stderr=worker_log, env=worker_env))
        wait_until(lambda: http_status(f"http://127.0.0.1:{status}/readyz") == 200, 40, "the worker's /readyz")
        check(True, "the worker's /readyz says ready once it joined its group")
        wait_until(lambda: http_status(f"{api}/readyz") == 200, 30, "the aggregator's /readyz")
        check(True, "the aggregator's /readyz says ready once its reader has partitions")

        suite = os.path.join(work, "suite.yaml")
        with open(suite, "w") as f:
            f.write("name: sasl\ntests:\n  - name: one\n    command: 'true'\n  - name: two\n    command: 'true'\n")
        report = os.path.join(work, "run.json")
        r = cluster.cli("submitter", "--no-create-topics", "submit", suite, "--aggregator", api, "--wait",
                        "--json", report)
        jobs = json.load(open(report))["jobs"] if os.path.exists(report) else []
        check(r.returncode == 0 and [j["verdict"] for j in jobs] == ["passed", "passed"],
              f"a run with the proper principals completes (exit {r.returncode}): {r.stderr.strip()[-300:]}")

        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=30)
        logs = open(os.path.join(work, "worker.log")).read() + open(os.path.join(work, "aggregator.log")).read()
        check(not any(pw in logs for pw in USERS.values()), "no password in the services' logs (at debug level)")
        print(f"  took {time.monotonic() - began:.0f}s")
    except Exception as e:  # noqa: BLE001 - any failure is reported, and the broker still stopped
        FAILURES.append(repr(e))
        print(f"  FAIL {e!r}")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        cluster.stop()
        if FAILURES:
            print(f"  logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", required=True)
    parser.add_argument("--source", required=True)
    args = parser.parse_args()
    run(args)
    print(f"{len(FAILURES)} failed checks")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
