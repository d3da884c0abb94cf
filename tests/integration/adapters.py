#!/usr/bin/env python3
"""Every framework adapter, through the whole fleet, against the framework's own runner.

For each example project under examples/ (each has passing, failing, skipped and erroring tests), the suite is
submitted to a real fleet (real Kafka, aggregator, sandboxed worker) and the per-test verdicts in its JSON report
are compared with what the framework's own runner prints when run directly on a copy of the project: the same
test ids with the same passed / failed / skipped / error outcome. The generic command adapter is checked the same
way, with pytest run as a plain command that writes a JUnit file.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fleet_e2e  # noqa: E402  (the Fleet harness and check())
from fleet_e2e import Fleet, check  # noqa: E402

GO = "/usr/local/go/bin/go"
PYTHON = "/usr/bin/python3"  # the interpreter the sandbox sees


def copy_project(name):
    d = tempfile.mkdtemp(prefix=f"testfleet-native-{name}-")
    shutil.copytree(os.path.join(fleet_e2e.ARGS.source, "examples", name), d, dirs_exist_ok=True)
    return d


def run(cmd, cwd, **kw):
    env = dict(os.environ, **kw.pop("env", {}))
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600, env=env, **kw)


# ---- the frameworks' own runners, parsed from what they print -------------------------------------------------

def native_pytest(d, files=()):
    out = run([PYTHON, "-m", "pytest", "-v", "-p", "no:cacheprovider", *files], d).stdout
    verdicts = {}
    for m in re.finditer(r"^(\S+?)::(\S+) (PASSED|FAILED|SKIPPED|ERROR|XFAIL|XPASS)", out, re.M):
        module = m.group(1)[:-3].replace("/", ".")
        test = m.group(2).replace("::", ".")
        verdicts[f"{module}.{test}"] = {"PASSED": "passed", "XFAIL": "passed", "SKIPPED": "skipped",
                                        "ERROR": "error"}.get(m.group(3), "failed")
    return verdicts


def native_unittest(d):
    err = run([PYTHON, "-m", "unittest", "-v"], d).stderr
    verdicts = {}
    for m in re.finditer(r"^\w+ \(([\w.]+)\) \.\.\. (ok|FAIL|ERROR|skipped|expected failure|unexpected success)",
                         err, re.M):
        verdicts[m.group(1)] = {"ok": "passed", "expected failure": "passed", "skipped": "skipped",
                                "ERROR": "error"}.get(m.group(2), "failed")
    return verdicts


def native_node(d):
    out = run(["node", "--test", "--test-reporter=tap"], d).stdout
    verdicts = {}
    for m in re.finditer(r"^(not ok|ok) \d+ - (.*?)(?: # (SKIP|TODO).*)?$", out, re.M):
        verdicts[m.group(2)] = "skipped" if m.group(3) else ("passed" if m.group(1) == "ok" else "failed")
    return verdicts


def native_jest(d):
    report = os.path.join(d, ".native-jest.json")
    run(["jest", "--ci", "--runInBand", "--json", "--outputFile=" + report], d)
    with open(report) as f:
        doc = json.load(f)
    verdicts = {}
    for file in doc["testResults"]:
        path = os.path.relpath(file["name"], d)
        if not file["assertionResults"] and file["status"] == "failed":
            verdicts[f"{path}.{path}"] = "error"
        for a in file["assertionResults"]:
            verdicts[f"{path}.{a['fullName']}"] = {"passed": "passed", "failed": "failed"}.get(a["status"], "skipped")
    return verdicts


def native_go(d):
    env = {"GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod", "GOPROXY": "off", "GOCACHE": os.path.join(d, ".gocache")}
    out = run([GO, "test", "-json", "./..."], d, env=env).stdout
    verdicts = {}
    for line in out.splitlines():
        ev = json.loads(line)
        if ev.get("Test") and ev["Action"] in ("pass", "fail", "skip"):
            verdicts[f"{ev['Package']}.{ev['Test']}"] = {"pass": "passed", "fail": "failed", "skip": "skipped"}[ev["Action"]]
    return verdicts


def native_gtest(d):
    built = run(["make", "--quiet", "stack_test"], d)
    assert built.returncode == 0, f"host build of the gtest example failed: {built.stderr}"
    out = run(["./stack_test", "--gtest_color=no"], d).stdout
    verdicts = {}
    for m in re.finditer(r"^\[ +(OK|FAILED|SKIPPED) +\] (\w+\.\w+)", out, re.M):
        verdicts[m.group(2)] = {"OK": "passed", "FAILED": "failed", "SKIPPED": "skipped"}[m.group(1)]
    listed = run(["./stack_test", "--gtest_list_tests"], d).stdout
    suite = None
    for line in listed.splitlines():
        if not line.startswith(" "):
            suite = line.strip().rstrip(".")
        elif line.strip().startswith("DISABLED_"):
            verdicts[f"{suite}.{line.strip()}"] = "skipped"  # gtest lists disabled tests and never runs them
    return verdicts


def native_ctest(d):
    for step in (["cmake", "-S", ".", "-B", "build", "-G", "Ninja"], ["cmake", "--build", "build"]):
        built = run(step, d)
        assert built.returncode == 0, f"host build of the ctest example failed: {built.stdout}{built.stderr}"
    out = run(["ctest", "--test-dir", "build"], d).stdout
    verdicts = {}
    for m in re.finditer(r"Test +#\d+: (\S+) \.+\s*(\*+)?(Passed|Failed|Skipped|Not Run|Exception)", out):
        verdicts[m.group(1)] = {"Passed": "passed", "Skipped": "skipped", "Not Run": "skipped"}.get(m.group(3), "failed")
    return verdicts


# ---- the fleet's side -----------------------------------------------------------------------------------------

def fleet_verdicts(fleet, suite, key):
    report = os.path.join(fleet.dir, os.path.basename(os.path.dirname(suite)) + "-report.json")
    r = fleet.submit(suite, "--wait", "--no-history", "--json", report)
    assert r.returncode in (0, 1), f"submit exit {r.returncode}: {r.stdout}\n{r.stderr}"
    with open(report) as f:
        doc = json.load(f)
    verdicts = {}
    for job in doc["jobs"]:
        for c in job["cases"]:
            status = c["status"]
            outcome = {"passed": "passed", "skipped": "skipped"}.get(status, "error" if c.get("errored") else "failed")
            verdicts[key(job, c)] = outcome
    return verdicts, r.returncode


def dotted(job, c):
    return f"{c['classname']}.{c['name']}"


def compare(name, ours, theirs, exit_code):
    print(f"{name}: {len(ours)} tests through the fleet, {len(theirs)} by the framework's own runner")
    check(ours == theirs, f"{name}: same ids and verdicts" + ("" if ours == theirs else
                                                             f"\n      ours   {sorted(ours.items())}"
                                                             f"\n      theirs {sorted(theirs.items())}"))
    outcomes = set(theirs.values())
    check({"passed", "failed", "skipped"} <= outcomes, f"{name}: the example has passing, failing and skipped tests")
    check(any("rror" in k for k in theirs), f"{name}: the example has a test that errors (named so)")
    check(exit_code == 1, f"{name}: submit exits 1 because tests failed")


def go_shared_cache(fleet):
    """A Go module with a dependency runs offline in the sandbox from the worker's read-only shared cache."""
    module = os.path.join(fleet.dir, "gomod")
    os.makedirs(module)
    with open(os.path.join(module, "go.mod"), "w") as f:
        f.write("module example.com/ids\n\ngo 1.21\n\nrequire github.com/google/uuid v1.6.0\n")
    with open(os.path.join(module, "ids_test.go"), "w") as f:
        f.write('package ids\n\nimport (\n\t"testing"\n\n\t"github.com/google/uuid"\n)\n\n'
                'func TestNewIsVersion4(t *testing.T) {\n\tif v := uuid.New().Version(); v != 4 {\n'
                '\t\tt.Fatalf("version %d", v)\n\t}\n}\n')
    cache = os.path.join(fleet.dir, "shared-cache")
    env = {"GOMODCACHE": os.path.join(cache, "go", "mod"), "GOFLAGS": "-modcacherw", "GOTOOLCHAIN": "local",
           "GOCACHE": os.path.join(fleet.dir, "gocache")}
    tidy = run([GO, "mod", "tidy"], module, env=env)  # the operator's side: fill the cache from the module proxy
    assert tidy.returncode == 0, f"go mod tidy on the host failed: {tidy.stderr}"
    suite = fleet_e2e.write_suite(fleet.dir, "gomod.yaml", "name: go-deps\ntests:\n  - name: uses uuid\n"
                                                           "    framework: go\n    root: gomod\n    timeout: 180s\n")
    worker = os.path.join(fleet_e2e.ARGS.build, "worker", "testfleet-worker")

    def local(*extra):
        out = run([worker, "--run-suite", suite, "--work-dir", os.path.join(fleet.dir, "local"), *extra], fleet.dir)
        results = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
        return results[0] if results else {"verdict": f"no result: {out.stderr[-300:]}"}

    with_cache = local("--shared-cache", cache)
    check(with_cache["verdict"] == "PASSED" and any(c["name"] == "TestNewIsVersion4" and c["status"] == "PASSED"
                                                    for c in with_cache.get("cases", [])),
          f"go-shared-cache: with the cache the module's test passes offline ({with_cache['verdict']})")
    without = local()
    check(without["verdict"] == "FAILED",
          f"go-shared-cache: without it the dependency cannot be had, so the job fails ({without['verdict']})")


# split: test for each adapter that can list: the directory form where it has one, else a test entry with root.
SPLIT_SUITES = {
    "pytest": "name: {name}\ndirectory:\n  root: {examples}/pytest\n  framework: pytest\n  split: test\n",
    "unittest": "name: {name}\ndirectory:\n  root: {examples}/unittest\n  framework: unittest\n  split: test\n",
    "go": "name: {name}\ntests:\n  - name: go module\n    framework: go\n    root: {examples}/go\n"
          "    split: test\n    timeout: 180s\n",
    "ctest": "name: {name}\ntests:\n  - name: ctest\n    framework: ctest\n    root: {examples}/ctest\n"
             "    setup: cmake -S . -B build -G Ninja >/dev/null && cmake --build build\n    split: test\n"
             "    timeout: 180s\n",
}


def split_case(fleet, name, suite_text, key, theirs):
    folder = os.path.join(fleet.dir, name)
    os.makedirs(folder, exist_ok=True)
    suite = fleet_e2e.write_suite(folder, "suite.yaml", suite_text)
    ours, code = fleet_verdicts(fleet, suite, key)
    with open(os.path.join(fleet.dir, f"{name}-report.json")) as f:
        jobs = json.load(f)["jobs"]
    # Go lists top-level tests only; a subtest comes back as a case of its parent's job.
    top_level = {k for k in ours if "/" not in k.split(".")[-1]} if name == "go-split" else set(ours)
    check(len(jobs) == len(top_level) and all(j.get("listed") is None for j in jobs),
          f"{name}: one job per listed test ({len(jobs)} jobs for {len(top_level)} tests)")
    compare(name, ours, theirs, code)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("adapters", nargs="*",
                        default=["pytest", "unittest", "node", "jest", "go", "gtest", "command", "pytest-split",
                                 "unittest-split", "pytest-split-group", "split-error", "go-shared-cache", "ctest", "ctest-split",
                                 "go-split"])
    fleet_e2e.ARGS = parser.parse_args()
    args = fleet_e2e.ARGS
    args.source = os.path.abspath(args.source)
    args.build = os.path.abspath(args.build)
    examples = os.path.join(args.source, "examples")
    natives = {"pytest": native_pytest, "unittest": native_unittest, "node": native_node, "jest": native_jest,
               "go": native_go, "gtest": native_gtest, "ctest": native_ctest}
    keys = {"node": lambda job, c: c["name"], "ctest": lambda job, c: c["name"]}
    with Fleet("adapters") as fleet:
        fleet.start_aggregator()
        fleet.start_worker("w1", 2)
        for name in args.adapters:
            try:
                if name == "command":
                    # The generic adapter: any command, plus the JUnit file it says it writes.
                    suite = fleet_e2e.write_suite(fleet.dir, "command.yaml", f"""
name: generic-command
tests:
  - name: pytest as a plain command
    framework: shell
    root: {examples}/pytest
    command: python3 -m pytest -q -p no:cacheprovider -o junit_family=xunit1 --junitxml=out/junit.xml
    junit: out/junit.xml
""")
                    os.makedirs(os.path.join(fleet.dir, "command"), exist_ok=True)
                    os.rename(suite, os.path.join(fleet.dir, "command", "suite.yaml"))
                    ours, code = fleet_verdicts(fleet, os.path.join(fleet.dir, "command", "suite.yaml"), dotted)
                    compare(name, ours, native_pytest(copy_project("pytest")), code)
                    continue
                if name == "go-shared-cache":
                    go_shared_cache(fleet)
                    continue
                if name == "split-error":
                    # A file that does not even collect: the listing fails and says why; nothing else runs.
                    folder = os.path.join(fleet.dir, name)
                    os.makedirs(os.path.join(folder, "t"))
                    with open(os.path.join(folder, "t", "test_ok.py"), "w") as f:
                        f.write("def test_ok():\n    pass\n")
                    with open(os.path.join(folder, "t", "test_bad.py"), "w") as f:
                        f.write("def test_bad(:\n")
                    suite = fleet_e2e.write_suite(folder, "suite.yaml", "name: split-error\ndirectory:\n  root: t\n"
                                                                        "  framework: pytest\n  split: test\n")
                    r = fleet.submit(suite, "--wait")
                    check(r.returncode == 1 and "could not list the tests" in r.stderr and "SyntaxError" in r.stderr,
                          f"split-error: a collection error stops the run with pytest's message (exit {r.returncode})")
                    continue
                if name == "pytest-split-group":
                    # split: test with shards: the tests listed first, then packed into two jobs.
                    suite_text = SPLIT_SUITES["pytest"].format(examples=examples, name=name) + "  shards: 2\n"
                    folder = os.path.join(fleet.dir, name)
                    os.makedirs(folder, exist_ok=True)
                    ours, code = fleet_verdicts(fleet, fleet_e2e.write_suite(folder, "suite.yaml", suite_text), dotted)
                    with open(os.path.join(fleet.dir, f"{name}-report.json")) as f:
                        names = [j["name"] for j in json.load(f)["jobs"]]
                    check(len(names) == 2 and all(" more" in n for n in names),
                          f"{name}: {len(ours)} listed tests packed into 2 jobs: {names}")
                    compare(name, ours, native_pytest(copy_project("pytest")), code)
                    continue
                if name.endswith("-split"):
                    # split: test — listed in a sandbox through the fleet, then one job per test case.
                    framework = name[:-len("-split")]
                    split_case(fleet, name, SPLIT_SUITES[framework].format(examples=examples, name=name),
                               keys.get(framework, dotted), natives[framework](copy_project(framework)))
                    continue
                ours, code = fleet_verdicts(fleet, os.path.join(examples, name, "suite.yaml"),
                                            keys.get(name, dotted))
                compare(name, ours, natives[name](copy_project(name)), code)
            except Exception as e:  # one adapter blowing up is a failure; the others still run
                check(False, f"{name}: {e!r}")
    print(f"{len(fleet_e2e.FAILURES)} failed checks")
    return 1 if fleet_e2e.FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
