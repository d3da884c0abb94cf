#!/usr/bin/env python3
"""The aggregator's run browser (/) in headless Chromium, against a real fleet on the local Kafka.

Runs a small suite twice, one of whose tests is named `<img src=x onerror=alert(1)>`, then opens each page (the runs
list, a run, the suite, a test's history) with `chromium --headless=new --dump-dom` and checks that the page's
script finished (<html data-ready=PAGE>) without an error (browser.js sets data-script-error on any error or
unhandled rejection), that the expected content is there, and that the hostile name is text, never an element.
Screenshots of each page go to --out.
"""
import argparse
import html.parser
import json
import os
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import fleet_e2e  # noqa: E402  (Fleet, check, write_suite: the fleet the integration tests use)
from fleet_e2e import Fleet, check, write_suite  # noqa: E402

HOSTILE = "<img src=x onerror=alert(1)>"
SUITE = "browser-e2e"
# The hostile job writes JUnit with one case of that name (XML-escaped there, as a framework would), prints a
# script tag and keeps an artifact.
JUNIT = ('<testsuite name="browser"><testcase classname="hostile" name="&lt;img src=x onerror=alert(1)&gt;" '
         'time="0.05"/></testsuite>')
SUITE_TEXT = f"""name: {SUITE}
labels:
  branch: browser
defaults:
  timeout: 60s
tests:
  - name: "{HOSTILE}"
    framework: shell
    command: echo '<script>alert(2)</script>' > out.txt && cat out.txt && echo '{JUNIT}' > junit.xml
    junit: junit.xml
    artifacts: ["*.txt"]
  - name: plain test
    framework: shell
    command: "true"
"""


class Dom(html.parser.HTMLParser):
    """What the checks need of a dumped DOM: the root's attributes, every element's tag, ids and the text."""

    def __init__(self, text):
        super().__init__()
        self.root = {}
        self.tags = []
        self.ids = set()
        self.text = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.root = attrs
        self.tags.append(tag)
        if "id" in attrs:
            self.ids.add(attrs["id"])

    def handle_data(self, data):
        self.text.append(data)


def chromium(url, out_dir, name, *action):
    profile = os.path.join(out_dir, "chromium-profile")
    cmd = ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", "--window-size=1200,900",
           # virtual time runs until the page's fetches and timers are done (or 10 s of it have passed)
           "--virtual-time-budget=10000", *action, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def check_page(base, fragment, page, out_dir, expect_ids=(), expect_text=()):
    """Opens base/#fragment, checks it rendered `page` without a script error, and keeps its screenshot."""
    url = f"{base}/#{fragment}"
    dumped = chromium(url, out_dir, page, "--dump-dom")
    with open(os.path.join(out_dir, f"{page}.html"), "w") as f:
        f.write(dumped.stdout)
    shot = os.path.join(out_dir, f"{page}.png")
    chromium(url, out_dir, page, f"--screenshot={shot}")
    dom = Dom(dumped.stdout)
    text = "".join(dom.text)
    check("data-script-error" not in dom.root, f"{page}: no script error ({text[:300]!r})")
    check(dom.root.get("data-ready") == page, f"{page}: the page's script finished (data-ready={dom.root.get('data-ready')!r})")
    for i in expect_ids:
        check(i in dom.ids, f"{page}: has #{i}")
    for t in expect_text:
        check(t in text, f"{page}: shows {t!r}")
    check("img" not in dom.tags and dom.tags.count("script") == 1,
          f"{page}: no <img> or <script> element but the page's own script")
    check(os.path.getsize(shot) > 0 if os.path.exists(shot) else False, f"{page}: screenshot {shot}")
    return dom, text


def run_browser(out_dir):
    print("run browser in headless Chromium")
    with Fleet("browser") as fleet:
        fleet.start_aggregator()
        fleet.start_worker("w1", 2)
        suite = write_suite(fleet.dir, "browser.yaml", SUITE_TEXT)
        run_ids = []
        for i in range(2):
            run_json = os.path.join(fleet.dir, f"run-{i}.json")
            r = fleet.submit(suite, "--wait", "--json", run_json)
            check(r.returncode == 0, f"run {i + 1} of the suite passed (exit {r.returncode}: {r.stderr[-500:]})")
            run_ids.append(json.load(open(run_json))["run_id"])
        base = f"http://127.0.0.1:{fleet.port}"
        hostile_job = [j for j in json.load(open(run_json))["jobs"] if j["name"] == HOSTILE]
        check(len(hostile_job) == 1, "the hostile job is in the run")

        _, runs_text = check_page(base, "/runs?" + urllib.parse.urlencode({"suite": SUITE}), "runs", out_dir,
                                  expect_ids=("runs", "filters"), expect_text=(SUITE, *run_ids, "branch:browser"))
        _, run_text = check_page(base, "/run/" + run_ids[-1], "run", out_dir, expect_ids=("run",),
                                 expect_text=(run_ids[-1], HOSTILE, "plain test", "<script>alert(2)</script>",
                                              "out.txt", "stdout (tail)"))
        check_page(base, "/suite/" + urllib.parse.quote(SUITE, safe=""), "suite", out_dir,
                   expect_ids=("suite", "trend-duration", "trend-pass-rate"),
                   expect_text=("Slowest tests", HOSTILE, "Trend over the last 2 complete runs"))
        cases = hostile_job[0]["cases"] if hostile_job else []
        check([c["name"] for c in cases] == [HOSTILE], f"the hostile job's one case has the hostile name: {cases}")
        test_id = "hostile::" + HOSTILE  # classname::name, as /v1/tests/history names a test
        check_page(base, "/test?" + urllib.parse.urlencode({"suite": SUITE, "test": test_id}), "test", out_dir,
                   expect_ids=("test",), expect_text=(HOSTILE, *run_ids))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--out", required=True, help="folder for the screenshots and dumped pages")
    args = parser.parse_args()
    fleet_e2e.ARGS = args
    os.makedirs(args.out, exist_ok=True)
    try:
        run_browser(args.out)
    except Exception as e:  # a case that blew up is a failure
        fleet_e2e.FAILURES.append(f"run_browser: {e!r}")
        print(f"  FAIL run_browser: {e!r}")
    print(f"{len(fleet_e2e.FAILURES)} failed checks; pages and screenshots in {args.out}")
    return 1 if fleet_e2e.FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
