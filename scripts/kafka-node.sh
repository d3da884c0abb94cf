# One Kafka (KRaft) process from the jars in $TESTFLEET_KAFKA_LIBS: what scripts/kafka.sh (one node) and
# scripts/kafka-cluster.sh (three) share. Sourced after env.sh, not run. Each function names its node's folder,
# port or pid file; none exits the calling script except on missing jars.

kafka_kcat_args=() # what kafka_answers adds to kcat's command line (SASL settings for a broker that needs them)
kafka_answers() { # port
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && kcat -b "127.0.0.1:$1" "${kafka_kcat_args[@]}" -L -m 3 >/dev/null 2>&1
}

kafka_running() { # pidfile
  [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

kafka_need_jars() {
  [ -f "$TESTFLEET_KAFKA_LIBS/.complete" ] || { echo "kafka: jars missing; run scripts/bootstrap.sh" >&2; exit 1; }
}

# The JVM command line for a heap size, in the array kafka_java.
kafka_java_for() { # heap, e.g. 512m
  kafka_java=(java "-Xmx$1" -Xms128m -XX:+UseG1GC -Djava.awt.headless=true
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$(ls "$TESTFLEET_KAFKA_LIBS"/*.jar | tr '\n' ':')")
}

# The settings every testfleet broker has, whatever its replication: printed into server.properties.
kafka_common_properties() {
  cat <<PROPS
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
num.partitions=1
group.initial.rebalance.delay.ms=0
# Abort transactions of vanished producers soon after their timeout (default check every 10 s).
transaction.abort.timed.out.transaction.cleanup.interval.ms=2000
auto.create.topics.enable=false
log.retention.hours=24
PROPS
}

kafka_formatted() { [ -f "$1/data/meta.properties" ]; } # dir

kafka_new_cluster_id() { "${kafka_java[@]}" kafka.tools.StorageTool random-uuid; }

# How the internal topics are replicated: replicas of the offsets, transaction state and share state topics, and the
# in-sync replicas a write to them needs.
kafka_internal_topic_properties() { # replicas min-in-sync
  cat <<PROPS
offsets.topic.replication.factor=$1
transaction.state.log.replication.factor=$1
transaction.state.log.min.isr=$2
share.coordinator.state.topic.replication.factor=$1
share.coordinator.state.topic.min.isr=$2
PROPS
}

# Formats the node's storage for its first start; format options after the cluster id.
kafka_format() { # dir cluster-id [format options...]
  local dir=$1 id=$2
  shift 2
  "${kafka_java[@]}" kafka.tools.StorageTool format -t "$id" -c "$dir/server.properties" "$@" \
    >"$dir/format.log" 2>&1 || { cat "$dir/format.log" >&2; exit 1; }
}

# Starts $dir/server.properties in the background: pid in $dir/broker.pid, log in broker.log (the last run's log,
# e.g. of a killed broker, kept as broker.log.1).
kafka_launch() { # dir
  [ -f "$1/broker.log" ] && mv -f "$1/broker.log" "$1/broker.log.1"
  nohup "${kafka_java[@]}" kafka.Kafka "$1/server.properties" >"$1/broker.log" 2>&1 &
  echo $! >"$1/broker.pid"
}

# Waits up to 60 s for the node to answer; says why not (and exits) when it does not.
kafka_await() { # dir port label
  local dir=$1 port=$2 label=$3
  for _ in $(seq 1 120); do
    kafka_answers "$port" && return
    kafka_running "$dir/broker.pid" || {
      echo "$label: broker exited; last lines of $dir/broker.log:" >&2
      tail -20 "$dir/broker.log" >&2
      exit 1
    }
    sleep 0.5
  done
  echo "$label: no answer on 127.0.0.1:$port after 60 s; see $dir/broker.log" >&2
  exit 1
}

# Stops the node: SIGTERM for a controlled shutdown, SIGKILL after 60 s. Prints how it ended.
kafka_stop() { # pidfile label
  local pidfile=$1 label=$2
  kafka_running "$pidfile" || { echo "$label: not running"; rm -f "$pidfile"; return; }
  local pid; pid=$(cat "$pidfile")
  # A controlled shutdown writes every partition's state; a broker with thousands of partitions on a loaded machine
  # needs more than a few seconds, and a SIGKILL instead leaves it to recover on the next start.
  kill "$pid"
  for _ in $(seq 1 240); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid"
    rm -f "$pidfile"
    echo "$label: stopped (SIGKILL: no controlled shutdown within 60 s)"
    return
  fi
  rm -f "$pidfile"
  echo "$label: stopped"
}
