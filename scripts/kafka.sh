#!/usr/bin/env bash
# Starts, stops and reports a local single-node Apache Kafka broker (KRaft) for development and tests.
#   scripts/kafka.sh start     format storage on first start, start, wait until it answers
#   scripts/kafka.sh stop      stop it (SIGTERM, then SIGKILL after 60 s)
#   scripts/kafka.sh status    exit 0 when it answers
#   scripts/kafka.sh wipe      stop and delete its data
# Port: TESTFLEET_KAFKA_PORT (default 19092; the controller listens on the next port). Data: TESTFLEET_KAFKA_DIR.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/env.sh"
source "$here/kafka-node.sh"
port=$TESTFLEET_KAFKA_PORT
ctrl=$((port + 1))
dir=$TESTFLEET_KAFKA_DIR
pidfile=$dir/broker.pid

start() {
  kafka_need_jars
  if kafka_running "$pidfile" && kafka_answers "$port"; then echo "kafka: already running on 127.0.0.1:$port"; return; fi
  mkdir -p "$dir"
  cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$ctrl
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$ctrl
advertised.listeners=PLAINTEXT://127.0.0.1:$port
log.dirs=$dir/data
$(kafka_internal_topic_properties 1 1)
$(kafka_common_properties)
PROPS
  kafka_java_for 512m
  if ! kafka_formatted "$dir"; then
    # TESTFLEET_KAFKA_FORMAT_ARGS: extra format options for experiments, e.g. --feature transaction.version=1.
    # shellcheck disable=SC2086
    kafka_format "$dir" "$(kafka_new_cluster_id)" --standalone ${TESTFLEET_KAFKA_FORMAT_ARGS:-}
  fi
  kafka_launch "$dir"
  kafka_await "$dir" "$port" kafka
  echo "kafka: up on 127.0.0.1:$port (data $dir)"
}

case "${1:-}" in
  start) start ;;
  stop) kafka_stop "$pidfile" kafka ;;
  status) if kafka_running "$pidfile" && kafka_answers "$port"; then echo "kafka: up on 127.0.0.1:$port"; else echo "kafka: down"; exit 1; fi ;;
  wipe) kafka_stop "$pidfile" kafka; rm -rf "$dir"; echo "kafka: data removed" ;;
  *) sed -n '2,7p' "$0" >&2; exit 2 ;;
esac
