#!/usr/bin/env bash
# Runs clang-tidy with the root .clang-tidy over the parts' own sources (not tests, benches or examples).
#   scripts/tidy.sh BUILD_DIR     BUILD_DIR holds compile_commands.json (every build exports it)
# Prints each finding as FILE:LINE: error and exits 1 if there is any (CI, via ctest: the tidy_check test).
set -euo pipefail
build=${1:?usage: scripts/tidy.sh BUILD_DIR}
cd "$(dirname "$0")/.."
[ -f "$build/compile_commands.json" ] || { echo "tidy: no $build/compile_commands.json; build first" >&2; exit 2; }
out=$(run-clang-tidy -quiet -j "$(nproc)" -p "$build" "$(pwd)/(common|suite|producer|worker|aggregator)/.*\.cc$" 2>&1 \
      | grep -E "(error|warning): " | sort -u || true)
if [ -n "$out" ]; then
  echo "$out"
  echo "tidy: $(echo "$out" | wc -l) finding(s); see .clang-tidy for the checks"
  exit 1
fi
echo "tidy: no findings"
