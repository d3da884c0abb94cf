#!/usr/bin/env bash
# Installs everything testfleet needs to build, run and test, and nothing twice.
#   scripts/bootstrap.sh          Debian packages + Kafka jars
# Idempotent: a second run checks and returns in about a second.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/env.sh"

packages=(
  build-essential cmake ninja-build pkg-config git
  librdkafka-dev libprotobuf-dev protobuf-compiler libcurl4-openssl-dev prometheus-cpp-dev
  libspdlog-dev doctest-dev libyaml-cpp-dev nlohmann-json3-dev libpugixml-dev libsqlite3-dev
  libcpp-httplib-dev libcli11-dev libseccomp-dev libarchive-dev libssl-dev
  libxml2-utils  # xmllint, which checks the merged JUnit report against its schemas (tests/data/junit)
  bubblewrap slirp4netns iproute2 util-linux stress-ng openjdk-17-jre-headless maven kcat python3 python3-pytest nodejs procps curl
  googletest libgtest-dev  # the worker's C++ test toolchain (the gtest adapter and example)
  chromium  # headless, for checking the HTML report and the run browser as a browser renders them
  prometheus python3-yaml  # a real Prometheus (and promtool) for tests/integration/prometheus_e2e.py
  clang-format clang-tidy  # the house style (.clang-format) and lint (.clang-tidy), checked in CI
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# jest for the jest adapter, installed where the sandbox sees it (/usr is mounted read-only into every job).
jest_version=29.7.0
if [ "$(jest --version 2>/dev/null)" != "$jest_version" ]; then
  echo "bootstrap: installing jest $jest_version from the npm registry"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  # NodeSource's nodejs carries npm; Debian's own splits it out.
  command -v npm >/dev/null || $sudo_cmd apt-get install -y -q --no-install-recommends npm >/dev/null
  $sudo_cmd npm install -g --prefix /usr --no-fund --no-audit "jest@$jest_version" >/dev/null
fi

# Kafka broker jars, resolved from Maven Central through scripts/kafka/pom.xml into a cache outside the build tree.
if [ ! -f "$TESTFLEET_KAFKA_LIBS/.complete" ] || ! cmp -s "$here/kafka/pom.xml" "$TESTFLEET_KAFKA_LIBS/.pom"; then
  echo "bootstrap: fetching Kafka jars into $TESTFLEET_KAFKA_LIBS"
  rm -rf "$TESTFLEET_KAFKA_LIBS"
  mkdir -p "$TESTFLEET_KAFKA_LIBS"
  (cd "$here/kafka" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$TESTFLEET_KAFKA_LIBS")
  cp "$here/kafka/pom.xml" "$TESTFLEET_KAFKA_LIBS/.pom"
  touch "$TESTFLEET_KAFKA_LIBS/.complete"
fi
echo "bootstrap: ok ($(ls "$TESTFLEET_KAFKA_LIBS"/*.jar | wc -l) Kafka jars)"
