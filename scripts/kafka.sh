#!/usr/bin/env bash
# Starts, stops and reports a local single-node Apache Kafka broker (KRaft) for development and tests.
#   scripts/kafka.sh start     format storage on first start, start, wait until it answers
#   scripts/kafka.sh stop      stop it (SIGTERM, then SIGKILL after 20 s)
#   scripts/kafka.sh status    exit 0 when it answers
#   scripts/kafka.sh wipe      stop and delete its data
# Port: TESTFLEET_KAFKA_PORT (default 19092; the controller listens on the next port). Data: TESTFLEET_KAFKA_DIR.
# SASL mode, for a second broker of its own (tests/integration/kafka_sasl_acls.py): TESTFLEET_KAFKA_SCRAM_USERS=
# "admin:pw1 worker:pw2 …" makes the client listener SASL_PLAINTEXT for these users, with SCRAM-SHA-256 (created at
# format time) and PLAIN (librdkafka before 2.6.1, Debian 12's 2.0.2 included, fails SCRAM against Kafka 4.x:
# librdkafka#4895), and turns on the StandardAuthorizer with no access without an ACL; the first user is the super
# user.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/env.sh"
port=$TESTFLEET_KAFKA_PORT
ctrl=$((port + 1))
dir=$TESTFLEET_KAFKA_DIR
pidfile=$dir/broker.pid

users=${TESTFLEET_KAFKA_SCRAM_USERS:-}
admin=${users%% *}
sasl=()
[ -z "$users" ] || sasl=(-X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN
  -X "sasl.username=${admin%%:*}" -X "sasl.password=${admin#*:}")

answers() {
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && kcat -b "127.0.0.1:$port" "${sasl[@]}" -L -m 3 >/dev/null 2>&1
}
running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
classpath() { ls "$TESTFLEET_KAFKA_LIBS"/*.jar | tr '\n' ':'; }

start() {
  [ -f "$TESTFLEET_KAFKA_LIBS/.complete" ] || { echo "kafka: jars missing; run scripts/bootstrap.sh" >&2; exit 1; }
  if running && answers; then echo "kafka: already running on 127.0.0.1:$port"; return; fi
  mkdir -p "$dir"
  cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$ctrl
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$ctrl
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# Abort transactions of vanished producers soon after their timeout (default check every 10 s).
transaction.abort.timed.out.transaction.cleanup.interval.ms=2000
auto.create.topics.enable=false
log.retention.hours=24
PROPS
  local format_users=() plain_users="" u
  for u in $users; do plain_users+=" user_${u%%:*}=\"${u#*:}\""; done
  if [ -n "$users" ]; then
    # The client listener (and the broker's own connections to it) take SASL; the controller's stays plaintext
    # on its own port, its principal ANONYMOUS a super user as the combined node's broker needs.
    sed -i -e "s|^listeners=PLAINTEXT://|listeners=SASL_PLAINTEXT://|" \
      -e "s|^advertised.listeners=PLAINTEXT://|advertised.listeners=SASL_PLAINTEXT://|" \
      -e "s|^listener.security.protocol.map=.*|listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT|" \
      "$dir/server.properties"
    cat >> "$dir/server.properties" <<PROPS
inter.broker.listener.name=SASL_PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-256,PLAIN
sasl.mechanism.inter.broker.protocol=PLAIN
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${admin%%:*}" password="${admin#*:}";
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="${admin%%:*}" password="${admin#*:}" $plain_users;
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:${admin%%:*};User:ANONYMOUS
PROPS
    for u in $users; do format_users+=(--add-scram "SCRAM-SHA-256=[name=${u%%:*},password=${u#*:}]"); done
  fi
  local java=(java -Xmx512m -Xms128m -XX:+UseG1GC -Djava.awt.headless=true
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$(classpath)")
  if [ ! -f "$dir/data/meta.properties" ]; then
    local id
    id=$("${java[@]}" kafka.tools.StorageTool random-uuid)
    # TESTFLEET_KAFKA_FORMAT_ARGS: extra format options for experiments, e.g. --feature transaction.version=1.
    # shellcheck disable=SC2086
    "${java[@]}" kafka.tools.StorageTool format -t "$id" -c "$dir/server.properties" --standalone \
      "${format_users[@]}" ${TESTFLEET_KAFKA_FORMAT_ARGS:-} >"$dir/format.log" 2>&1 \
      || { cat "$dir/format.log" >&2; exit 1; }
  fi
  nohup "${java[@]}" kafka.Kafka "$dir/server.properties" >"$dir/broker.log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 120); do
    if answers; then echo "kafka: up on 127.0.0.1:$port (data $dir)"; return; fi
    running || { echo "kafka: broker exited; last lines of $dir/broker.log:" >&2; tail -20 "$dir/broker.log" >&2; exit 1; }
    sleep 0.5
  done
  echo "kafka: no answer on 127.0.0.1:$port after 60 s; see $dir/broker.log" >&2
  exit 1
}

stop() {
  running || { echo "kafka: not running"; rm -f "$pidfile"; return; }
  local pid; pid=$(cat "$pidfile")
  # A controlled shutdown writes every partition's state; a broker with thousands of partitions on a loaded machine
  # needs more than a few seconds, and a SIGKILL instead leaves it to recover on the next start.
  kill "$pid"
  for _ in $(seq 1 240); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid"
    rm -f "$pidfile"
    echo "kafka: stopped (SIGKILL: no controlled shutdown within 60 s)"
    return
  fi
  rm -f "$pidfile"
  echo "kafka: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running && answers; then echo "kafka: up on 127.0.0.1:$port"; else echo "kafka: down"; exit 1; fi ;;
  wipe) stop; rm -rf "$dir"; echo "kafka: data removed" ;;
  *) sed -n '2,10p' "$0" >&2; exit 2 ;;
esac
