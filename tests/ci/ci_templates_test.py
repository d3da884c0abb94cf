#!/usr/bin/env python3
"""The CI templates run the CLI as their users' inputs say: action.yml (the GitHub Action) and
ci/gitlab/testfleet.gitlab-ci.yml (the GitLab hidden job `.testfleet`) are parsed, and their shell runs with
`testfleet` replaced by a stub on PATH that records its argv; the test checks the argv. No broker, no network.

    ci_templates_test.py [--source DIR]
"""
import argparse
import json
import os
import re
import stat
import subprocess
import sys
import tempfile

import yaml

FAILURES = []
STUB = """#!/bin/sh
python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@" >> "$STUB_LOG"
"""


def check(condition, message):
    print(f"  {'ok  ' if condition else 'FAIL'} {message}")
    if not condition:
        FAILURES.append(message)


def run_with_stub(shell, script, env, cwd):
    """Runs `script` with `shell` and a recording `testfleet` first on PATH; returns (exit code, argv lists, stderr)."""
    stub_dir = os.path.join(cwd, "stub-bin")
    os.makedirs(stub_dir, exist_ok=True)
    stub = os.path.join(stub_dir, "testfleet")
    with open(stub, "w") as f:
        f.write(STUB)
    os.chmod(stub, stat.S_IRWXU)
    log = os.path.join(cwd, "argv.jsonl")
    open(log, "w").close()
    full_env = {"PATH": stub_dir + os.pathsep + os.environ["PATH"], "HOME": cwd, "STUB_LOG": log, **env}
    p = subprocess.run([shell, "-e", "-c", script], cwd=cwd, env=full_env, capture_output=True, text=True,
                       timeout=30)
    with open(log) as f:
        calls = [json.loads(line) for line in f if line.strip()]
    return p.returncode, calls, p.stderr


def action_step_env(step, inputs):
    """The step's env with ${{ inputs.NAME }} replaced as GitHub would (a value, never code)."""
    env = {}
    for key, value in step.get("env", {}).items():
        def substitute(m):
            name = m.group(1)
            check(name in inputs, f"action.yml env {key} uses a declared input ({name})")
            return inputs.get(name, "")
        env[key] = re.sub(r"\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}", substitute, str(value))
    return env


def run_action(action, given, cwd):
    declared = action["inputs"]
    for name in given:
        check(name in declared, f"action.yml declares input {name}")
    inputs = {name: str(spec.get("default", "")) for name, spec in declared.items()}
    inputs.update(given)
    steps = action["runs"]["steps"]
    check(action["runs"]["using"] == "composite" and len(steps) == 1, "action.yml is a composite action of one step")
    step = steps[0]
    check(step.get("shell") == "bash", "its step runs in bash")
    check("${{" not in step["run"], "its script splices no ${{ }} expression (inputs come in through env)")
    env = action_step_env(step, inputs)
    env["GITHUB_STEP_SUMMARY"] = os.path.join(cwd, "step-summary.md")
    return run_with_stub("bash", step["run"], env, cwd)


def case_action(source):
    with open(os.path.join(source, "action.yml")) as f:
        action = yaml.safe_load(f)
    required = {n for n, spec in action["inputs"].items() if spec.get("required")}
    check(required == {"suite", "brokers", "aggregator-url"}, f"required inputs: {sorted(required)}")
    with tempfile.TemporaryDirectory() as d:
        code, calls, err = run_action(action, {"suite": "suites/my suite.yaml", "brokers": "kafka:9092",
                                               "aggregator-url": "http://agg:8480"}, d)
        check(code == 0, f"the step succeeds with the stub (got {code}; {err.strip()!r})")
        check(calls == [["--brokers", "kafka:9092", "--topic-prefix", "testfleet", "submit", "suites/my suite.yaml",
                         "--wait", "--aggregator", "http://agg:8480", "--junit", "testfleet-junit.xml",
                         "--markdown", os.path.join(d, "step-summary.md")]],
              f"the defaults turn into: {calls}")
    with tempfile.TemporaryDirectory() as d:
        code, calls, err = run_action(action, {
            "suite": "$(touch pwned)", "brokers": "a:1,b:2", "aggregator-url": "http://agg:8480",
            "public-url": "https://fleet.example", "topic-prefix": "ci", "junit": "out/junit.xml",
            "args": "--label team=shop  --deadline 30m *"}, d)
        check(code == 0, f"every input set: the step succeeds (got {code}; {err.strip()!r})")
        check(calls == [["--brokers", "a:1,b:2", "--topic-prefix", "ci", "submit", "$(touch pwned)", "--wait",
                         "--aggregator", "http://agg:8480", "--public-url", "https://fleet.example", "--junit",
                         "out/junit.xml", "--markdown", os.path.join(d, "step-summary.md"), "--label", "team=shop",
                         "--deadline", "30m", "*"]],
              f"every input turns into its argument, args split on spaces, no glob: {calls}")
        check(not os.path.exists(os.path.join(d, "pwned")), "an input is data: $(…) in it is not run")


def case_gitlab(source):
    with open(os.path.join(source, "ci", "gitlab", "testfleet.gitlab-ci.yml")) as f:
        template = yaml.safe_load(f)
    job = template.get(".testfleet")
    check(isinstance(job, dict), "the template defines the hidden job .testfleet")
    if not isinstance(job, dict):
        return
    check(job["artifacts"]["reports"]["junit"] == "$TESTFLEET_JUNIT", "its JUnit report is $TESTFLEET_JUNIT")
    check(job["artifacts"].get("when") == "always", "its artifacts are kept when tests fail")
    script = "\n".join(job["script"])

    def run_job(overrides, d):
        env = {k: str(v) for k, v in job["variables"].items()}
        env.update(overrides)
        return run_with_stub("sh", script, env, d)  # GitLab runs the script in the image's shell: POSIX sh

    with tempfile.TemporaryDirectory() as d:
        code, calls, err = run_job({"TESTFLEET_BROKERS": "kafka:9092", "TESTFLEET_AGGREGATOR": "http://agg:8480"}, d)
        check(code == 0, f"the job's script succeeds with the stub (got {code}; {err.strip()!r})")
        check(calls == [["--brokers", "kafka:9092", "--topic-prefix", "testfleet", "submit", "suite.yaml", "--wait",
                         "--aggregator", "http://agg:8480", "--junit", "testfleet-junit.xml", "--markdown",
                         "testfleet-summary.md"]],
              f"the defaults turn into: {calls}")
    with tempfile.TemporaryDirectory() as d:
        code, calls, err = run_job({"TESTFLEET_SUITE": "my suite.yaml", "TESTFLEET_BROKERS": "k:1",
                                    "TESTFLEET_AGGREGATOR": "http://agg", "TESTFLEET_PUBLIC_URL": "https://f.example",
                                    "TESTFLEET_TOPIC_PREFIX": "gl", "TESTFLEET_JUNIT": "r/j.xml",
                                    "TESTFLEET_MARKDOWN": "r/s.md", "TESTFLEET_ARGS": "--label team=shop *"}, d)
        check(code == 0, f"every variable set: the script succeeds (got {code}; {err.strip()!r})")
        check(calls == [["--brokers", "k:1", "--topic-prefix", "gl", "submit", "my suite.yaml", "--wait",
                         "--aggregator", "http://agg", "--public-url", "https://f.example", "--junit", "r/j.xml",
                         "--markdown", "r/s.md", "--label", "team=shop", "*"]],
              f"every variable turns into its argument: {calls}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    args = parser.parse_args()
    for name, case in (("action", case_action), ("gitlab", case_gitlab)):
        print(f"{name}:")
        case(args.source)
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
