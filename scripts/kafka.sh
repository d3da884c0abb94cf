#!/usr/bin/env bash
# Starts, stops and reports a local single-node Apache Kafka broker (KRaft) for development and tests.
#   scripts/kafka.sh start     format storage on first start, start, wait until it answers
#   scripts/kafka.sh stop      stop it (SIGTERM, then SIGKILL after 60 s)
#   scripts/kafka.sh kill      SIGKILL it (a crash; the next start recovers its logs)
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
source "$here/kafka-node.sh"
port=$TESTFLEET_KAFKA_PORT
ctrl=$((port + 1))
dir=$TESTFLEET_KAFKA_DIR
pidfile=$dir/broker.pid

users=${TESTFLEET_KAFKA_SCRAM_USERS:-}
admin=${users%% *}
# kafka_answers asks with these (the super user in SASL mode).
[ -z "$users" ] || kafka_kcat_args=(-X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN
  -X "sasl.username=${admin%%:*}" -X "sasl.password=${admin#*:}")

# SASL mode: the client listener (and the broker's own connections to it) take SASL; the controller's stays
# plaintext on its own port, its principal ANONYMOUS a super user as the combined node's broker needs.
sasl_properties() {
  local plain_users="" u
  for u in $users; do plain_users+=" user_${u%%:*}=\"${u#*:}\""; done
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
}

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
  local format_users=() u
  if [ -n "$users" ]; then
    sasl_properties
    for u in $users; do format_users+=(--add-scram "SCRAM-SHA-256=[name=${u%%:*},password=${u#*:}]"); done
  fi
  kafka_java_for 512m
  if ! kafka_formatted "$dir"; then
    # TESTFLEET_KAFKA_FORMAT_ARGS: extra format options for experiments, e.g. --feature transaction.version=1.
    # shellcheck disable=SC2086
    kafka_format "$dir" "$(kafka_new_cluster_id)" --standalone "${format_users[@]}" ${TESTFLEET_KAFKA_FORMAT_ARGS:-}
  fi
  kafka_launch "$dir"
  kafka_await "$dir" "$port" kafka
  echo "kafka: up on 127.0.0.1:$port (data $dir)"
}

case "${1:-}" in
  start) start ;;
  stop) kafka_stop "$pidfile" kafka ;;
  kill)
    if kafka_running "$pidfile"; then
      pid=$(cat "$pidfile")
      kill -9 "$pid"
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      rm -f "$pidfile"
      echo "kafka: SIGKILLed"
    else
      echo "kafka: not running"
    fi ;;
  status) if kafka_running "$pidfile" && kafka_answers "$port"; then echo "kafka: up on 127.0.0.1:$port"; else echo "kafka: down"; exit 1; fi ;;
  wipe) kafka_stop "$pidfile" kafka; rm -rf "$dir"; echo "kafka: data removed" ;;
  *) sed -n '2,13p' "$0" >&2; exit 2 ;;
esac
