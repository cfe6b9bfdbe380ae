#!/usr/bin/env bash
# Installs what the tests need, then runs them all: vet, the race-checked
# test suite (engine, Caddy module, end to end), and a short fuzz run of
# every fuzz target. FUZZTIME sets the fuzz run per target: a count of
# executions (default 20000x: 2 to 12 s a target on 2 cores). A count, not
# a duration: with a duration, Go 1.26's fuzz coordinator can fail a target
# with "context deadline exceeded" when the time ends while a worker is
# busy (golang/go#75804, fixed in Go 1.27), no input at fault.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -x scripts/install-test-deps.sh ]; then
  scripts/install-test-deps.sh
fi
# The tests run the pinned MinIO just installed, not another minio on PATH.
if [ -z "${MINIO_BIN:-}" ] && [ -x .cache/bin/minio ]; then
  export MINIO_BIN="$PWD/.cache/bin/minio"
fi

echo "== go build ./cmd/caddy (one binary shared by every end-to-end test)"
bin_dir=$(mktemp -d)
trap 'rm -rf "$bin_dir"' EXIT
go build -o "$bin_dir/caddy" ./cmd/caddy
export S3CORS_CADDY_BIN="$bin_dir/caddy"

echo "== go vet"
go vet ./...

echo "== go test -race"
go test -race -count=1 -timeout 25m ./...

echo "== fuzz (${FUZZTIME:-20000x} per target)"
for pkg_target in $(grep -rl --include='*_test.go' '^func Fuzz' . | sort -u | while read -r f; do
  dir=$(dirname "$f")
  grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed "s|^func |$dir:|"
done); do
  pkg=${pkg_target%%:*}
  target=${pkg_target##*:}
  go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "${FUZZTIME:-20000x}"
done
echo "== all tests passed"
