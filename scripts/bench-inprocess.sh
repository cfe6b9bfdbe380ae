#!/usr/bin/env bash
# In-process Caddy benchmarks (package ./bench), in rounds, then benchstat.
#
# The test binary is built once and run ROUNDS times with -count 1, so that
# every round measures every benchmark once, one after the other, and a
# neighbour's load on a shared machine spreads over all of them instead of
# falling on one. benchstat then gives the medians over rounds:
#
#   - ns/op, B/op, allocs/op of front=baseline vs front=s3_cors (and
#     front=s3_cors_app), with the ratio as "vs base";
#   - the paired ratios (pair=...): front and baseline timed alternately in
#     batches of 256 requests, median of front/base over the pairs.
#
# Settings (environment): ROUNDS (5), BENCH (the -bench regexp,
# 'Caddy' = BenchmarkCaddy and BenchmarkCaddyProxy; 'Scale' for the
# 10,000-bucket benchmarks), BENCHTIME (1s), OUT (directory for the
# binary and raw.txt; a temporary one by default).
#
#   scripts/bench-inprocess.sh
#   ROUNDS=3 BENCH=Scale scripts/bench-inprocess.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-5}
BENCH=${BENCH:-Caddy}
BENCHTIME=${BENCHTIME:-1s}
OUT=${OUT:-$(mktemp -d)}

if ! command -v benchstat >/dev/null; then
	PATH=$PATH:$(go env GOPATH)/bin
	command -v benchstat >/dev/null || go install golang.org/x/perf/cmd/benchstat@latest
fi

go test -c -o "$OUT/bench.test" ./bench
raw=$OUT/raw.txt
: >"$raw"
for round in $(seq 1 "$ROUNDS"); do
	echo "bench-inprocess: round $round/$ROUNDS" >&2
	"$OUT/bench.test" -test.run '^$' -test.bench "$BENCH" -test.benchmem \
		-test.benchtime "$BENCHTIME" -test.count 1 -test.timeout 60m 2>/dev/null |
		grep -E '^(Benchmark|goos|goarch|pkg|cpu)' >>"$raw"
done

echo "# $(date -u +%FT%TZ) rounds=$ROUNDS bench=$BENCH benchtime=$BENCHTIME nproc=$(nproc) go=$(go env GOVERSION) raw=$raw"
echo "## front=baseline vs front=s3_cors: medians over rounds"
benchstat -col '/front@(baseline s3_cors s3_cors_app)' "$raw"
echo
echo "## paired ratios (front time / baseline time, batches of 256, alternating)"
benchstat -filter '/pair:/.+/' "$raw"
if grep -q 'load-s' "$raw"; then
	echo
	echo "## load"
	benchstat -filter '.fullname:/^Scale.load/' "$raw"
fi
