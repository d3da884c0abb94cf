#!/usr/bin/env python3
"""The dashboard and alert rules against a real Prometheus scraping a real fleet (real Kafka).

Starts an aggregator and a worker (fleet_e2e's Fleet), a Prometheus on a free port scraping both every second with
its own temporary storage, runs a small suite, then asks Prometheus' HTTP API for every query of every panel of
deploy/grafana/testfleet.json (each must return data) and every expression of deploy/prometheus/testfleet-rules.yml
(each must evaluate; `promtool check rules` must pass). A panel naming a metric nobody exports fails the test; a
built-in control query proves that the check can fail.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

import yaml

import fleet_e2e
from fleet_e2e import Fleet, check, free_port, trivial_suite, wait_until, write_suite

# Grafana's variables, as the dashboard's defaults ("All") and a range that holds many 1 s scrapes.
GRAFANA_VARIABLES = {"$__rate_interval": "30s", "$job": ".+", "$instance": ".+"}


class Prometheus:
    """A Prometheus of its own on a free port with temporary storage, scraping the given targets every second."""

    def __init__(self, targets, rules):
        self.dir = tempfile.mkdtemp(prefix="testfleet-prometheus-")
        self.port = free_port()
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [rules],
            "scrape_configs": [{"job_name": job, "static_configs": [{"targets": [address]}]}
                               for job, address in targets.items()],
        }
        with open(os.path.join(self.dir, "prometheus.yml"), "w") as f:
            yaml.safe_dump(config, f)
        self.log = open(os.path.join(self.dir, "prometheus.log"), "w")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={self.dir}/prometheus.yml", f"--storage.tsdb.path={self.dir}/data",
             f"--web.listen-address=127.0.0.1:{self.port}", "--web.enable-lifecycle"],
            stdout=self.log, stderr=self.log)

    def api(self, path, **params):
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:  # a bad query is answered 400 with a JSON error
            return json.loads(e.read())

    def ready(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        if not fleet_e2e.FAILURES:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            print(f"  Prometheus' files kept in {self.dir}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def panel_queries(dashboard):
    """(panel title, PromQL) of every target of every panel, Grafana's variables replaced."""
    out = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for name, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(name, value)
            out.append((panel["title"], expr))
    return out


def query_problem(prometheus, expr):
    """Why a query gives a panel nothing to draw (an error, or no series), or None."""
    answer = prometheus.api("query", query=expr)
    if answer.get("status") != "success":
        return f"error: {answer.get('error')}"
    if not answer["data"]["result"]:
        return "no data"
    return None


def rule_exprs(rules_file):
    with open(rules_file) as f:
        groups = yaml.safe_load(f)["groups"]
    return [(rule.get("alert") or rule.get("record"), rule["expr"]) for group in groups for rule in group["rules"]]


def small_suite(directory):
    """Passes, a failure, and a job that fails once and passes on its rerun (flaky-test detection)."""
    return write_suite(directory, "metrics.yaml", "\n".join([
        "name: metrics",
        "tests:",
        "  - name: passes",
        "    command: 'true'",
        "  - name: also passes",
        "    command: sleep 0.2",
        "  - name: fails",
        "    command: 'false'",
        "  - name: flaky",
        "    reruns: 1",
        "    command: test \"$TESTFLEET_ATTEMPT\" -ge 2",
    ]) + "\n")


def case_dashboard_and_alerts():
    print("dashboard panels and alert rules against a real Prometheus")
    dashboard_file = os.path.join(ARGS.source, "deploy/grafana/testfleet.json")
    rules_file = os.path.abspath(os.path.join(ARGS.source, "deploy/prometheus/testfleet-rules.yml"))
    promtool = subprocess.run(["promtool", "check", "rules", rules_file], capture_output=True, text=True)
    check(promtool.returncode == 0, f"promtool check rules: {(promtool.stdout + promtool.stderr).strip()}")
    with open(dashboard_file) as f:
        dashboard = json.load(f)
    with Fleet("metrics") as fleet:
        fleet.start_aggregator()
        status_port = free_port()
        fleet.start_worker("w1", 2, "--http", f"127.0.0.1:{status_port}")
        targets = {"testfleet-aggregator": f"127.0.0.1:{fleet.port}", "testfleet-worker": f"127.0.0.1:{status_port}"}
        with Prometheus(targets, rules_file) as prometheus:
            wait_until(prometheus.ready, 60, "Prometheus to be ready")
            r = fleet.submit(small_suite(fleet.dir), "--wait")
            check(r.returncode == 1, f"the suite ran, with its one failure (exit {r.returncode}: {r.stderr[-300:]})")
            r = fleet.submit(trivial_suite(fleet.dir, 3, "'true'"), "--wait")
            check(r.returncode == 0, f"a passing suite ran (exit {r.returncode}: {r.stderr[-300:]})")

            def scraped_all():
                # Both runs counted, and every target up in 3 scrapes of a rate's 30 s window: rate() needs two.
                runs = prometheus.api("query", query="sum(testfleet_runs_completed_total) >= 2")
                ups = prometheus.api("query", query="sum_over_time(up[30s]) >= 3")
                return (runs.get("status") == "success" and runs["data"]["result"]
                        and len(ups["data"]["result"]) == len(targets))
            wait_until(scraped_all, 60, "Prometheus to scrape both targets after the runs")
            passed = prometheus.api("query", query='testfleet_runs_completed_total{result="passed"}')
            check(float(passed["data"]["result"][0]["value"][1]) == 1, "Prometheus sees one passed run")
            error = prometheus.api("query", query='testfleet_job_verdicts_total{verdict="error"}')
            check(float(error["data"]["result"][0]["value"][1]) == 0, "no final ERROR counted")

            queries = panel_queries(dashboard)
            check(len(queries) >= len(dashboard["panels"]), f"{len(queries)} queries in {len(dashboard['panels'])} panels")
            for title, expr in queries:
                problem = query_problem(prometheus, expr)
                check(problem is None, f"panel {title!r}: {expr}" + (f": {problem}" if problem else ""))
            # The control: a query of a metric nobody exports is caught.
            control = query_problem(prometheus, "sum(testfleet_no_such_metric_total)")
            check(control == "no data", f"a panel naming a metric that does not exist would fail ({control})")
            for name, expr in rule_exprs(rules_file):
                answer = prometheus.api("query", query=expr)
                check(answer.get("status") == "success", f"alert {name} evaluates ({answer.get('error', 'ok')})")
            loaded = prometheus.api("rules")
            health = [r["health"] for g in loaded["data"]["groups"] for r in g["rules"]]
            check(len(health) == len(rule_exprs(rules_file)), f"Prometheus loaded every rule ({len(health)})")


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build", required=True)
    parser.add_argument("--source", required=True)
    ARGS = fleet_e2e.ARGS = parser.parse_args()
    if not shutil.which("prometheus") or not shutil.which("promtool"):
        print("prometheus and promtool are needed (Debian package prometheus; scripts/bootstrap.sh installs it)")
        return 1
    try:
        case_dashboard_and_alerts()
    except Exception as e:  # a case that blew up is a failure
        fleet_e2e.FAILURES.append(repr(e))
        print(f"  FAIL {e!r}")
    print(f"{len(fleet_e2e.FAILURES)} failed checks")
    return 1 if fleet_e2e.FAILURES else 0


ARGS = None

if __name__ == "__main__":
    sys.exit(main())
