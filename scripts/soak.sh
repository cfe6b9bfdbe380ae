#!/usr/bin/env bash
# Runs the soak test (e2e/soak_test.go) for a long time against the built
# binary: steady mixed load, configurations alternating through both APIs,
# goroutine and RSS bounds checked at the end.
#
#   scripts/soak.sh          # 5 minutes
#   scripts/soak.sh 30m      # any Go duration
#
# The test's own timeout is the duration plus 10 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${1:-${S3CORS_SOAK:-5m}}
# The Go duration in whole seconds (h, m, s and ms units), for the timeout.
seconds=$(awk -v d="$duration" 'BEGIN {
  total = 0; s = d
  while (match(s, /^[0-9.]+(ms|h|m|s)/)) {
    tok = substr(s, 1, RLENGTH); s = substr(s, RLENGTH + 1)
    n = tok + 0; unit = tok; sub(/^[0-9.]+/, "", unit)
    total += (unit == "h") ? n * 3600 : (unit == "m") ? n * 60 : (unit == "s") ? n : n / 1000
  }
  if (s != "" || total <= 0) { print "bad"; exit }
  printf "%d\n", total + 1
}')
if [ "$seconds" = bad ]; then
  echo "soak.sh: want a positive Go duration such as 5m or 1h30m, got $duration" >&2
  exit 2
fi

bin=$(mktemp -d)/caddy
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./cmd/caddy

echo "== soak for $duration"
S3CORS_CADDY_BIN="$bin" S3CORS_SOAK="$duration" \
  go test ./e2e -run '^TestSoak$' -count=1 -v -timeout "$((seconds + 600))s"
