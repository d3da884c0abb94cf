# Shared locations for the scripts; sourced, not run. Every value may be overridden from the environment.
: "${TESTFLEET_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/testfleet}"
: "${TESTFLEET_KAFKA_LIBS:=$TESTFLEET_CACHE/kafka-4.4.0}"
: "${TESTFLEET_KAFKA_PORT:=19092}"
: "${TESTFLEET_KAFKA_DIR:=${TMPDIR:-/tmp}/testfleet-kafka-$TESTFLEET_KAFKA_PORT}"
# The three-node cluster of scripts/kafka-cluster.sh: first broker port and data folder.
: "${TESTFLEET_CLUSTER_PORT:=39092}"
: "${TESTFLEET_CLUSTER_DIR:=${TMPDIR:-/tmp}/testfleet-cluster-$TESTFLEET_CLUSTER_PORT}"
export TESTFLEET_CACHE TESTFLEET_KAFKA_LIBS TESTFLEET_KAFKA_PORT TESTFLEET_KAFKA_DIR TESTFLEET_CLUSTER_PORT \
  TESTFLEET_CLUSTER_DIR
