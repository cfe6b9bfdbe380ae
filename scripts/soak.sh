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
seconds=$(go run - "$duration" <<'GO'
package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	d, err := time.ParseDuration(os.Args[1])
	if err != nil || d <= 0 {
		fmt.Fprintln(os.Stderr, "soak.sh: want a positive Go duration such as 5m, got", os.Args[1])
		os.Exit(2)
	}
	fmt.Println(int(d.Seconds()))
}
GO
)

bin=$(mktemp -d)/caddy
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./cmd/caddy

echo "== soak for $duration"
S3CORS_CADDY_BIN="$bin" S3CORS_SOAK="$duration" \
  go test ./e2e -run '^TestSoak$' -count=1 -v -timeout "$((seconds + 600))s"
