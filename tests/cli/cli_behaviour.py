#!/usr/bin/env python3
"""How the three binaries behave at their edges, as a user meets them: --version, logging, exit codes, broker and
aggregator problems, empty suites and report paths. No broker: where Kafka is asked for, it is an address nothing
listens on or nothing resolves, so the test checks the message a user gets.

    cli_behaviour.py --build BUILD [--only CASE ...]   (--list prints the cases)
"""
import argparse
import json
import os
import re
import select
import socket
import subprocess
import sys
import tempfile
import time

ARGS = None
FAILURES = []
BINARIES = {"testfleet": "producer", "testfleet-worker": "worker", "testfleet-aggregator": "aggregator"}


def check(condition, message):
    print(f"  {'ok  ' if condition else 'FAIL'} {message}")
    if not condition:
        FAILURES.append(message)


def run(name, *args, env=None, timeout=60):
    """Runs a binary of the build; returns (exit code, stdout, stderr)."""
    full_env = dict(os.environ)
    for key in ("TESTFLEET_BROKERS", "TESTFLEET_AGGREGATOR", "NO_COLOR"):
        full_env.pop(key, None)
    full_env.update(env or {})
    try:
        p = subprocess.run([os.path.join(ARGS.build, BINARIES[name], name), *args], capture_output=True, text=True,
                           errors="replace", env=full_env, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return None, "", f"(still running after {timeout} s) {e.stderr or ''}"
    return p.returncode, p.stdout, p.stderr


def closed_port():
    """A local TCP port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def case_version():
    for name in BINARIES:
        code, out, err = run(name, "--version")
        check(code == 0, f"{name} --version exits 0 (got {code}; {err.strip()[-200:]})")
        check(re.fullmatch(rf"{name} \d+\.\d+\.\d+( \(commit [0-9a-f]{{7,}}(-dirty)?\))?\n", out) is not None,
              f"{name} --version prints its name and version: {out!r}")


def write(folder, name, text):
    path = os.path.join(folder, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def case_empty_suite():
    """Zero tests: exit 2 before Kafka or the aggregator is asked (neither listens here); 0 with --allow-empty."""
    with tempfile.TemporaryDirectory() as d:
        suite = write(d, "suite.yaml", "name: empty\ntests: []\n")
        nowhere = ["--brokers", f"127.0.0.1:{closed_port()}", "submit", suite, "--wait",
                   "--aggregator", f"http://127.0.0.1:{closed_port()}"]
        code, out, err = run("testfleet", *nowhere, timeout=20)
        check(code == 2, f"an empty suite exits 2 (got {code})")
        check("has no tests" in err and "--allow-empty" in err, f"and says so: {err.strip()!r}")
        code, out, err = run("testfleet", *nowhere, "--allow-empty", timeout=20)
        check(code == 0, f"with --allow-empty it exits 0 (got {code}; {err.strip()!r})")
        check("nothing was submitted" in err and out == "", f"having submitted nothing: {err.strip()!r}")


def case_config_errors():
    """A bad command line or --config file exits 2 (not CLI11's own 105/109/110) with a message; --help lists the
    exit codes."""
    subcommand = {"testfleet": ["topics"], "testfleet-worker": [], "testfleet-aggregator": []}
    bad_value = {"testfleet": ["--log-level", "loud"], "testfleet-worker": ["--slots", "many"],
                 "testfleet-aggregator": ["--port", "99999"]}
    with tempfile.TemporaryDirectory() as d:
        configs = {"broken YAML": (write(d, "broken.yaml", "brokers: [a\n"), "not valid YAML at line 2"),
                   "an unknown key": (write(d, "unknown.yaml", "brokers: a:1\nbrokerz: b:1\n"),
                                      "line 2: unknown option 'brokerz'"),
                   "a bad value": (write(d, "value.yaml", "log-level: loud\n"), "log level 'loud'"),
                   "a missing file": (os.path.join(d, "missing.yaml"), "missing.yaml")}
        for name in BINARIES:
            for what, (config, says) in configs.items():
                code, _, err = run(name, "--config", config, *subcommand[name], timeout=20)
                check(code == 2 and says in err, f"{name}: {what} in --config exits 2 (got {code}; {err.strip()!r})")
            code, _, err = run(name, *bad_value[name], *subcommand[name], timeout=20)
            check(code == 2, f"{name}: a bad option value exits 2 (got {code}; {err.strip()!r})")
            code, _, err = run(name, "--no-such-option", *subcommand[name], timeout=20)
            check(code == 2, f"{name}: an unknown option exits 2 (got {code}; {err.strip()!r})")
            code, out, _ = run(name, "--help")
            check(code == 0 and "Exit codes: 0" in out and "2 bad command line" in out,
                  f"{name} --help lists the exit codes")


def case_report_paths():
    """Report folders are created; a report path that cannot be written is refused (exit 2) before anything is
    published — neither Kafka nor the aggregator listens here, so getting further would fail differently."""
    with tempfile.TemporaryDirectory() as d:
        suite = write(d, "suite.yaml", "name: reports\ntests:\n  - {name: a, command: 'true'}\n")
        not_a_folder = write(d, "plain-file", "")
        junit = os.path.join(d, "out", "deep", "junit.xml")
        code, out, err = run("testfleet", "--brokers", f"127.0.0.1:{closed_port()}", "submit", suite, "--wait",
                             "--aggregator", f"http://127.0.0.1:{closed_port()}", "--junit", junit,
                             "--html", os.path.join(not_a_folder, "report.html"), timeout=20)
        check(code == 2, f"an unwritable --html exits 2 (got {code})")
        check(f"--html {not_a_folder}/report.html: cannot create the folder {not_a_folder}" in err
              and "nothing was submitted" in err, f"naming the path, before the run: {err.strip()!r}")
        check(os.path.isdir(os.path.dirname(junit)), "the --junit file's missing folders were created")
        code, _, err = run("testfleet", "--brokers", f"127.0.0.1:{closed_port()}", "submit", suite, "--wait",
                           "--aggregator", f"http://127.0.0.1:{closed_port()}", "--json", d, timeout=20)
        check(code == 2 and "is a folder" in err, f"a folder as --json exits 2 ({code}; {err.strip()!r})")


def case_public_url():
    """--public-url (or TESTFLEET_PUBLIC_URL) that is not an http(s) URL fit for a Markdown link exits 2 before
    anything is asked; an empty TESTFLEET_PUBLIC_URL (a CI template's unset variable) is no URL at all."""
    with tempfile.TemporaryDirectory() as d:
        suite = write(d, "suite.yaml", "name: link\ntests:\n  - {name: a, command: 'true'}\n")
        nowhere = ["--brokers", f"127.0.0.1:{closed_port()}", "submit", suite, "--wait",
                   "--aggregator", f"http://127.0.0.1:{closed_port()}"]
        for bad in ("fleet.example.com", "https://fleet.example/a)<script>"):
            code, _, err = run("testfleet", *nowhere, "--public-url", bad, timeout=20)
            check(code == 2 and "--public-url" in err and bad in err, f"--public-url {bad!r} exits 2 ({code}; {err!r})")
        code, _, err = run("testfleet", *nowhere, env={"TESTFLEET_PUBLIC_URL": "javascript:alert(1)"}, timeout=20)
        check(code == 2 and "--public-url" in err, f"so does TESTFLEET_PUBLIC_URL ({code}; {err.strip()!r})")
        code, _, err = run("testfleet", *nowhere, env={"TESTFLEET_PUBLIC_URL": ""}, timeout=20)
        check(code == 3 and "--public-url" not in err, f"an empty one is ignored: on to the aggregator ({code})")


def case_aggregator_down():
    """submit --wait with no aggregator: exit 3 naming its URL, before Kafka is asked anything (the broker address
    is closed too: a submit that went on to Kafka would say so, or still be waiting)."""
    with tempfile.TemporaryDirectory() as d:
        suite = write(d, "suite.yaml", "name: down\ntests:\n  - {name: a, command: 'true'}\n")
        aggregator = f"http://127.0.0.1:{closed_port()}"
        started = time.monotonic()
        code, out, err = run("testfleet", "--brokers", f"127.0.0.1:{closed_port()}", "submit", suite, "--wait",
                             "--aggregator", aggregator, timeout=40)
        check(code == 3, f"exits 3 (got {code}) after {time.monotonic() - started:.1f} s")
        check(f"{aggregator}/healthz does not answer" in err and "Nothing was submitted" in err,
              f"naming the aggregator's URL: {err.strip()!r}")
        check("Kafka" not in err and out == "", "before Kafka is asked anything, with no run id printed")


def case_broker_unreachable():
    """A broker name that does not resolve and a port nothing listens on get different messages, after
    --connect-timeout rather than librdkafka's 35 s."""
    port = closed_port()
    with tempfile.TemporaryDirectory() as d:
        for name, extra in {"testfleet": ["topics"], "testfleet-aggregator": ["--port", "0", "--db", f"{d}/r.db"],
                            "testfleet-worker": ["--unsandboxed", "--work-dir", d]}.items():
            started = time.monotonic()
            code, _, err = run(name, "--brokers", "no-such-host.invalid:9092", "--connect-timeout", "2s", *extra,
                               timeout=30)
            took = time.monotonic() - started
            check(code == 3 and "the host name 'no-such-host.invalid' does not resolve" in err and "refused" not in err,
                  f"{name}: an unresolvable broker is named as such, exit 3 after {took:.1f} s ({code}; {err.strip()[-300:]!r})")
            check(took < 20, f"{name}: within --connect-timeout, not 35 s")
            started = time.monotonic()
            code, _, err = run(name, "--brokers", f"127.0.0.1:{port}", "--connect-timeout", "2s", *extra, timeout=30)
            took = time.monotonic() - started
            check(code == 3 and f"Kafka at 127.0.0.1:{port}: refused the connection" in err and "resolve" not in err,
                  f"{name}: a closed port is named as refused, exit 3 after {took:.1f} s ({code}; {err.strip()[-300:]!r})")
            check(took < 20, f"{name}: within --connect-timeout, not 35 s")


def aggregator_log(*args, env=None, terminal=False):
    """Starts an aggregator (free port, fresh database, a broker address nothing listens on) with stderr on a pipe
    or a pseudo-terminal, reads its log until the HTTP API is up, kills it and returns the log's bytes."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TESTFLEET_BROKERS")}
    full_env.update(env or {})
    with tempfile.TemporaryDirectory() as d:
        read_fd, write_fd = os.openpty() if terminal else os.pipe()
        p = subprocess.Popen([os.path.join(ARGS.build, "aggregator", "testfleet-aggregator"), "--port", "0",
                              "--db", os.path.join(d, "results.db"), "--brokers", f"127.0.0.1:{closed_port()}",
                              *args], stdout=subprocess.DEVNULL, stderr=write_fd, env=full_env)
        os.close(write_fd)
        log = b""
        deadline = time.monotonic() + 20
        try:
            while b"HTTP API on" not in log and time.monotonic() < deadline:
                if select.select([read_fd], [], [], 0.2)[0]:
                    try:
                        chunk = os.read(read_fd, 65536)
                    except OSError:  # the terminal closed
                        break
                    if not chunk:
                        break
                    log += chunk
        finally:
            p.kill()
            p.wait()
            os.close(read_fd)
    return log


def case_logging():
    """Colours only on a terminal without NO_COLOR; --log-format json gives one JSON object per line."""
    colour = re.compile(rb"\x1b\[")
    check(colour.search(aggregator_log(terminal=True, env={"TERM": "xterm"})) is not None, "text logs on a terminal are coloured")
    tty_no_color = aggregator_log(terminal=True, env={"NO_COLOR": "1", "TERM": "xterm"})
    check(b"HTTP API on" in tty_no_color and not colour.search(tty_no_color),
          f"NO_COLOR=1 on a terminal: no colour codes ({tty_no_color[:200]!r})")
    piped = aggregator_log()
    check(b"HTTP API on" in piped and not colour.search(piped), f"stderr not a terminal: no colour codes")
    lines = aggregator_log("--log-format", "json", terminal=True).decode().splitlines()
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            check(False, f"a JSON log line parses: {line!r}")
    check(any("HTTP API on" in r.get("message", "") for r in records), f"--log-format json logs as JSON: {lines}")
    check(all(list(r) == ["time", "level", "service", "message"] and r["service"] == "aggregator" for r in records),
          "each object has time, level, service and message")
    check(all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["time"]) for r in records), "times are UTC")
    code, _, err = run("testfleet-aggregator", "--log-format", "xml")
    check(code == 2 and "--log-format: 'xml' is not text or json" in err, f"--log-format xml exits 2 ({code}; {err.strip()!r})")


CASES = {name[len("case_"):]: f for name, f in sorted(globals().items()) if name.startswith("case_")}


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default="build", help="the CMake build folder")
    p.add_argument("--only", nargs="*", choices=sorted(CASES), help="run only these cases")
    p.add_argument("--list", action="store_true", help="print the case names and exit")
    ARGS = p.parse_args()
    if ARGS.list:
        print("\n".join(CASES))
        return 0
    for name in ARGS.only or CASES:
        print(name)
        CASES[name]()
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
