#!/usr/bin/env bash
# Formats testfleet's C++ with the root .clang-format, or checks that it is formatted.
#   scripts/format.sh           rewrite the files in place (`make format`)
#   scripts/format.sh --check   change nothing; list the files that are not formatted and exit 1 (CI, via ctest)
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cc' '*.h' | grep -v '^examples/')
if [ "${1:-}" = "--check" ]; then
  bad=()
  for f in "${files[@]}"; do
    clang-format --style=file "$f" | cmp -s - "$f" || bad+=("$f")
  done
  if ((${#bad[@]})); then
    printf 'format: not formatted (run `make format`): %s\n' "${bad[@]}"
    exit 1
  fi
  echo "format: ${#files[@]} files formatted"
else
  clang-format --style=file -i "${files[@]}"
fi
