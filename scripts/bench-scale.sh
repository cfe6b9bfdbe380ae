#!/usr/bin/env bash
# Scale: the built binary loading BUCKETS bucket CORS configurations of
# RULES rules each (10,000 x 100 by default) from a file-system storage at
# start, as a node does.
#
# Builds ./cmd/caddy and ./bench/genbuckets, generates the storage (the
# fixture is made here, never committed), starts Caddy on 127.0.0.1 with a
# bare s3_cors in front of a static response, and prints:
#
#   open-s   seconds from exec until the port answers at all
#   ready-s  seconds from exec until a preflight to the last bucket, matching
#            its last rule, is allowed (every configuration is loaded)
#   VmRSS / VmHWM of the process when ready, and VmRSS SETTLE seconds later
#
# then the same for an empty storage, for reference. The s3_cors app reads
# storage once while Caddy starts, bounded by a 10 s timeout; when that read
# does not finish in time the node starts with no configuration and the
# sync loop (every 5 s) loads them: the log line is shown when it happens.
#
#   scripts/bench-scale.sh
#   BUCKETS=1000 RULES=10 scripts/bench-scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."

BUCKETS=${BUCKETS:-10000}
RULES=${RULES:-100}
SETTLE=${SETTLE:-10}
TIMEOUT=${TIMEOUT:-180}

work=$(mktemp -d)
pid=""
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

echo "bench-scale: building" >&2
go build -o "$work/caddy" ./cmd/caddy
go build -o "$work/genbuckets" ./bench/genbuckets

start=$(date +%s.%N)
read -r bucket origin < <("$work/genbuckets" -root "$work/storage" -buckets "$BUCKETS" -rules "$RULES")
gen=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
echo "# $(date -u +%FT%TZ) buckets=$BUCKETS rules=$RULES nproc=$(nproc) go=$(go env GOVERSION)"
echo "generated $BUCKETS configurations in ${gen}s: $(du -sh "$work/storage" | cut -f1) on disk," \
	"$(find "$work/storage" -name '*.xml' | wc -l) files; request: OPTIONS /$bucket/a from $origin"
mkdir -p "$work/empty"

# run NAME STORAGE WANT: start Caddy on STORAGE and wait for the preflight
# to answer WANT.
run() {
	local name=$1 storage=$2 want=$3 port
	port=$(free_port)
	cat >"$work/config.json" <<EOF
{
	"admin": {"disabled": true, "config": {"persist": false}},
	"storage": {"module": "file_system", "root": "$storage"},
	"apps": {"http": {"servers": {"scale": {
		"listen": ["127.0.0.1:$port"],
		"automatic_https": {"disable": true},
		"routes": [{"handle": [
			{"handler": "s3_cors"},
			{"handler": "static_response", "status_code": 200, "body": "hello"}
		]}]
	}}}}
}
EOF
	local t0 t_open="" code
	t0=$(date +%s.%N)
	"$work/caddy" run --config "$work/config.json" >"$work/$name.log" 2>&1 &
	pid=$!
	while :; do
		code=$(curl -s -o /dev/null -w '%{http_code}' -X OPTIONS -H "Origin: $origin" \
			-H "Access-Control-Request-Method: GET" "http://127.0.0.1:$port/$bucket/a" || true)
		if [ "$code" != 000 ] && [ -z "$t_open" ]; then t_open=$(date +%s.%N); fi
		[ "$code" = "$want" ] && break
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "bench-scale: caddy exited" >&2
			cat "$work/$name.log" >&2
			exit 1
		fi
		if awk -v a="$t0" -v b="$(date +%s.%N)" -v t="$TIMEOUT" 'BEGIN { exit !(b - a > t) }'; then
			echo "bench-scale: no $want after ${TIMEOUT}s (last $code)" >&2
			exit 1
		fi
		sleep 0.05
	done
	local t_ready rss hwm rss2
	t_ready=$(date +%s.%N)
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
	hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status")
	sleep "$SETTLE"
	rss2=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
	awk -v n="$name" -v a="$t0" -v o="$t_open" -v r="$t_ready" -v rss="$rss" -v hwm="$hwm" -v rss2="$rss2" -v s="$SETTLE" 'BEGIN {
		printf "%-8s open-s %6.2f  ready-s %6.2f  VmRSS %7.1f MiB  VmHWM %7.1f MiB  VmRSS+%ss %7.1f MiB\n",
			n, o - a, r - a, rss / 1024, hwm / 1024, s, rss2 / 1024
	}'
	grep -h -o '"msg":"cannot read the bucket CORS configurations[^"]*"' "$work/$name.log" | sed 's/^/  log: /' || true
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=""
}

run buckets "$work/storage" 200
run empty "$work/empty" 403
