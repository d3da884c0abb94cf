#!/usr/bin/env bash
# Runs a suite end to end (examples/demo unless a suite file is given): an aggregator and two workers against the
# local Kafka, the suite submitted with --wait, the verdict printed. Exits 0 when the pipeline worked (the example
# suites have tests that fail on purpose).
#   scripts/demo.sh [BUILD_DIR] [SUITE_FILE]      e.g. make demo SUITE=examples/go/suite.yaml
# The aggregator takes a free port (printed), or TESTFLEET_DEMO_PORT when set.
set -euo pipefail
build=${1:-build}
suite=${2:-examples/demo/suite.yaml}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/env.sh"
brokers=127.0.0.1:$TESTFLEET_KAFKA_PORT
prefix=demo-$(date +%s)
state=$(mktemp -d "${TMPDIR:-/tmp}/testfleet-demo.XXXXXX")
chmod 711 "$state"  # jobs run as uids of their own, which pass through to their folders under it
port=${TESTFLEET_DEMO_PORT:-0}  # 0: the aggregator takes a free port and names it in its log
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

"$build/producer/testfleet" --brokers "$brokers" --topic-prefix "$prefix" topics >/dev/null
"$build/aggregator/testfleet-aggregator" --brokers "$brokers" --topic-prefix "$prefix" --db "$state/results.db" \
  --port "$port" >"$state/aggregator.log" 2>&1 &
pids+=($!)
bound=
deadline=$((SECONDS + 30))
until [ -n "$bound" ] && curl -fs "http://127.0.0.1:$bound/healthz" >/dev/null 2>&1; do  # the port it bound
  if [ $SECONDS -ge $deadline ] || ! kill -0 "${pids[0]}" 2>/dev/null; then
    echo "demo: the aggregator did not come up; see $state/aggregator.log" >&2
    exit 1
  fi
  sleep 0.1
  bound=$(sed -n 's|.*HTTP API on http://[^ ]*:\([0-9][0-9]*\) .*|\1|p' "$state/aggregator.log" | head -n 1)
done
port=$bound
for i in 1 2; do
  "$build/worker/testfleet-worker" --brokers "$brokers" --topic-prefix "$prefix" --id "demo-$i" --slots 2 \
    --work-dir "$state/work" --aggregator "http://127.0.0.1:$port" >"$state/worker-$i.log" 2>&1 &
  pids+=($!)
done
echo "demo: aggregator on http://127.0.0.1:$port, 2 workers, logs in $state"
rc=0
"$build/producer/testfleet" --brokers "$brokers" --topic-prefix "$prefix" submit "$suite" --wait \
  --aggregator "http://127.0.0.1:$port" --junit "$state/junit.xml" --html "$state/report.html" \
  --markdown "$state/summary.md" --stall-timeout 2m || rc=$?
case $rc in
  0|1) echo "demo: pipeline OK (exit code $rc: $([ $rc = 0 ] && echo all passed || echo tests failed, as intended)); reports in $state (junit.xml, report.html, summary.md)" ;;
  *) echo "demo: pipeline FAILED with exit code $rc; see logs in $state" >&2; exit 1 ;;
esac
