#!/usr/bin/env bash
# Starts, stops, kills and reports a local three-node Apache Kafka cluster (KRaft), replicated as in production:
# default.replication.factor 3, min.insync.replicas 2, offsets and transaction state topics on 3 replicas.
#   scripts/kafka-cluster.sh start [N]   format storage on first start, start the nodes (or node N), wait until they answer
#   scripts/kafka-cluster.sh stop [N]    stop the nodes (or node N): SIGTERM, then SIGKILL after 60 s
#   scripts/kafka-cluster.sh kill N      SIGKILL node N (no controlled shutdown), for failure tests
#   scripts/kafka-cluster.sh status      exit 0 when all three answer
#   scripts/kafka-cluster.sh wipe        SIGKILL the nodes and delete their data
#   scripts/kafka-cluster.sh brokers     print the bootstrap list
#   scripts/kafka-cluster.sh controller  print the node that is the active controller (the quorum's leader)
# Ports: TESTFLEET_CLUSTER_PORT (default 39092): node N's broker on PORT+N-1, its controller on PORT+100+N-1.
# Data: TESTFLEET_CLUSTER_DIR/node-N. Each node is broker and controller at once: three JVMs (384 MB heap each)
# instead of six, and a quorum of three voters, so killing one node loses a broker and a voter (maybe the leader).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/env.sh"
source "$here/kafka-node.sh"
base=$TESTFLEET_CLUSTER_PORT
top=$TESTFLEET_CLUSTER_DIR
nodes=(1 2 3)

port_of() { echo $((base + $1 - 1)); }
ctrl_of() { echo $((base + 100 + $1 - 1)); }
dir_of() { echo "$top/node-$1"; }
label_of() { echo "kafka-cluster node $1"; }
brokers() { local n list=(); for n in "${nodes[@]}"; do list+=("127.0.0.1:$(port_of "$n")"); done; (IFS=,; echo "${list[*]}"); }
voters() { local n list=(); for n in "${nodes[@]}"; do list+=("$n@127.0.0.1:$(ctrl_of "$n")"); done; (IFS=,; echo "${list[*]}"); }

node_properties() { # node
  local n=$1 dir; dir=$(dir_of "$1")
  cat <<PROPS
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$(voters)
listeners=PLAINTEXT://127.0.0.1:$(port_of "$n"),CONTROLLER://127.0.0.1:$(ctrl_of "$n")
advertised.listeners=PLAINTEXT://127.0.0.1:$(port_of "$n")
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
default.replication.factor=3
min.insync.replicas=2
$(kafka_internal_topic_properties 3 2)
$(kafka_common_properties)
PROPS
}

check_node() { # node
  case "$1" in 1|2|3) ;; *) echo "kafka-cluster: no node '$1' (nodes are 1, 2, 3)" >&2; exit 2 ;; esac
}

# Every node's storage carries the same cluster id; formatted together on the first start (in parallel: one JVM each).
format_all() {
  local n id pids=()
  for n in "${nodes[@]}"; do kafka_formatted "$(dir_of "$n")" && return; done
  id=$(kafka_new_cluster_id)
  for n in "${nodes[@]}"; do kafka_format "$(dir_of "$n")" "$id" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || exit 1; done
}

start() { # nodes...
  kafka_need_jars
  kafka_java_for 384m
  local n dir
  for n in "${nodes[@]}"; do
    dir=$(dir_of "$n")
    mkdir -p "$dir"
    node_properties "$n" >"$dir/server.properties"
  done
  format_all
  for n in "$@"; do
    dir=$(dir_of "$n")
    kafka_running "$dir/broker.pid" || kafka_launch "$dir"
  done
  for n in "$@"; do kafka_await "$(dir_of "$n")" "$(port_of "$n")" "$(label_of "$n")"; done
  echo "kafka-cluster: nodes $* up; brokers $(brokers) (data $top)"
}

# The quorum leader with the highest epoch recorded by a running node (data/__cluster_metadata-0/quorum-state).
controller() {
  local n state epoch leader best=-1 found=""
  for n in "${nodes[@]}"; do
    kafka_running "$(dir_of "$n")/broker.pid" || continue
    state=$(cat "$(dir_of "$n")/data/__cluster_metadata-0/quorum-state" 2>/dev/null) || continue
    leader=$(sed -n 's/.*"leaderId":\(-\{0,1\}[0-9]*\).*/\1/p' <<<"$state")
    epoch=$(sed -n 's/.*"leaderEpoch":\([0-9]*\).*/\1/p' <<<"$state")
    if [ -n "$leader" ] && [ "$leader" -ge 0 ] && [ "${epoch:--1}" -gt "$best" ]; then best=$epoch; found=$leader; fi
  done
  [ -n "$found" ] || { echo "kafka-cluster: no running node knows a quorum leader" >&2; exit 1; }
  echo "$found"
}

up() { # node
  kafka_running "$(dir_of "$1")/broker.pid" && kafka_answers "$(port_of "$1")"
}

case "${1:-}" in
  start)
    if [ -n "${2:-}" ]; then check_node "$2"; start "$2"; else start "${nodes[@]}"; fi ;;
  stop)
    if [ -n "${2:-}" ]; then check_node "$2"; set -- "$1" "$2"; else set -- "$1" "${nodes[@]}"; fi
    for n in "${@:2}"; do kafka_stop "$(dir_of "$n")/broker.pid" "$(label_of "$n")"; done ;;
  kill)
    check_node "${2:-}"
    pidfile=$(dir_of "$2")/broker.pid
    if kafka_running "$pidfile"; then kill -9 "$(cat "$pidfile")"; echo "$(label_of "$2"): SIGKILLed"; else echo "$(label_of "$2"): not running"; fi
    rm -f "$pidfile" ;;
  status)
    down=()
    for n in "${nodes[@]}"; do up "$n" || down+=("$n"); done
    if ((${#down[@]})); then echo "kafka-cluster: node(s) ${down[*]} down"; exit 1; fi
    echo "kafka-cluster: up; brokers $(brokers)" ;;
  wipe)
    for n in "${nodes[@]}"; do "$0" kill "$n"; done
    rm -rf "$top"; echo "kafka-cluster: data removed" ;;
  brokers) brokers ;;
  controller) controller ;;
  *) sed -n '2,13p' "$0" >&2; exit 2 ;;
esac
