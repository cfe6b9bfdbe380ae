#!/usr/bin/env bash
# Runs every fuzz target of the repository for a given time each, longer
# than CI's short run (scripts/test.sh). New inputs that fail are written to
# the package's testdata/fuzz/<Target>/ as Go's fuzzer does; commit them.
#
#   scripts/fuzz.sh          # 1m per target
#   scripts/fuzz.sh 10m      # any go test -fuzztime value
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${1:-${FUZZTIME:-1m}}
targets=$(grep -rl --include='*_test.go' '^func Fuzz' . | sort -u | while read -r f; do
  dir=$(dirname "$f")
  grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed "s|^func |$dir:|"
done)
if [ -z "$targets" ]; then
  echo "fuzz.sh: no fuzz targets found" >&2
  exit 1
fi

failed=()
for pkg_target in $targets; do
  pkg=${pkg_target%%:*}
  target=${pkg_target##*:}
  echo "== $pkg $target ($fuzztime)"
  if ! go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime"; then
    failed+=("$pkg $target")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  printf 'fuzz.sh: failed: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "== every fuzz target ran for $fuzztime"
