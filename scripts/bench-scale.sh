#!/usr/bin/env bash
# Scale: the built binary with many bucket CORS configurations in a
# file-system storage, measured against the goals of issue 11. Prints, for
# each scenario:
#
#   open-s    seconds from exec until the port answers a request that
#             addresses no bucket (GET /)
#   ready-s   seconds from exec until a preflight to the last bucket, matching
#             its last rule, is allowed (every configuration is served)
#   first     the first HTTP status the probe got: 200 means no request was
#             ever answered "not configured" while loading
#   VmRSS / VmHWM when ready, and VmRSS SETTLE seconds later
#   the "loaded" log line (buckets, time) and the number of per-bucket
#             "configuration set" lines logged at start (want 0)
#
# Scenarios (SCENARIOS, all by default):
#   distinct  100,000 buckets x 3 rules, every configuration different
#             (goal: open <= 1 s, ready <= 2 s, RSS <= 150 MiB)
#   wide      10,000 x 100 (goal: ready <= 5 s, RSS <= 400 MiB)
#   shared    100,000 x 3, one configuration for all (goal: about the RSS of
#             empty)
#   empty     no configuration, for reference
#   puts      PUTS configurations (100,000 x 3) stored one PUT at a time
#             through the admin API of a running node (goal: under 60 s, each
#             tenth as fast as the first), then the node restarted on them;
#             it also prints the CPU time the node used for the PUTs (user
#             and system, from /proc): the PUTs take turns with the client,
#             so the wall time is the node's CPU time, the client's, and the
#             wait for a core on a busy machine
#
# Fixtures go under TMPDIR. Each write to a file-system storage ends with an
# fsync: on a virtual disk that, not the node, bounds the puts scenario;
# TMPDIR=/dev/shm measures the node's own cost.
#
#   scripts/bench-scale.sh
#   SCENARIOS="distinct shared" scripts/bench-scale.sh
#   TMPDIR=/dev/shm SCENARIOS=puts scripts/bench-scale.sh
#   SCENARIOS=wide BUCKETS=1000 RULES=10 scripts/bench-scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SCENARIOS=${SCENARIOS:-distinct wide shared empty puts}
SETTLE=${SETTLE:-5}
TIMEOUT=${TIMEOUT:-180}
PUTS=${PUTS:-100000}

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
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

echo "bench-scale: building" >&2
go build -o "$work/caddy" ./cmd/caddy
go build -o "$work/genbuckets" ./bench/genbuckets
go build -o "$work/putbuckets" ./bench/putbuckets
echo "# $(date -u +%FT%TZ) nproc=$(nproc) go=$(go env GOVERSION) scenarios: $SCENARIOS"

# generate NAME BUCKETS RULES [-shared]: make the storage of a scenario and
# set bucket and origin to what the probe sends.
generate() {
	local name=$1 n=$2 rules=$3 t0
	shift 3
	t0=$(now)
	read -r bucket origin < <("$work/genbuckets" -root "$work/$name" -buckets "$n" -rules "$rules" "$@")
	echo "$name: generated $n x $rules $* in $(since "$t0")s: $(du -sh "$work/$name" | cut -f1) on disk;" \
		"probe: OPTIONS /$bucket/a from $origin"
}

# start NAME STORAGE [ADMIN_PORT]: start Caddy on STORAGE (admin API on
# ADMIN_PORT if given); sets pid, port and t0.
start() {
	local name=$1 storage=$2 admin='"disabled": true'
	if [ -n "${3:-}" ]; then admin="\"listen\": \"127.0.0.1:$3\""; fi
	port=$(free_port)
	cat >"$work/$name.json" <<JSON
{
	"admin": {$admin, "config": {"persist": false}},
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
JSON
	t0=$(now)
	"$work/caddy" run --config "$work/$name.json" >"$work/$name.log" 2>&1 &
	pid=$!
}

# node_cpu: the CPU time the running Caddy used so far (user + system), in
# clock ticks.
node_cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }

stop() {
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=""
}

# measure NAME WANT: probe the running Caddy until the preflight answers
# WANT, then print the figures.
measure() {
	local name=$1 want=$2 t_open="" first="" code
	until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" || true)" != 000 ]; do
		kill -0 "$pid" 2>/dev/null || { cat "$work/$name.log" >&2; exit 1; }
		sleep 0.01
	done
	t_open=$(now)
	while :; do
		code=$(curl -s -o /dev/null -w '%{http_code}' -X OPTIONS -H "Origin: $origin" \
			-H "Access-Control-Request-Method: GET" "http://127.0.0.1:$port/$bucket/a" || true)
		if [ "$code" != 000 ] && [ -z "$first" ]; then first=$code; fi
		[ "$code" = "$want" ] && break
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "bench-scale: caddy exited" >&2
			cat "$work/$name.log" >&2
			exit 1
		fi
		if awk -v a="$t0" -v b="$(now)" -v t="$TIMEOUT" 'BEGIN { exit !(b - a > t) }'; then
			echo "bench-scale: no $want after ${TIMEOUT}s (last $code)" >&2
			exit 1
		fi
		sleep 0.02
	done
	local t_ready rss hwm rss2 sets
	t_ready=$(now)
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
	hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status")
	sleep "$SETTLE"
	rss2=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
	awk -v n="$name" -v a="$t0" -v o="$t_open" -v r="$t_ready" -v f="$first" -v rss="$rss" -v hwm="$hwm" -v rss2="$rss2" -v s="$SETTLE" 'BEGIN {
		printf "%-9s open-s %5.2f  ready-s %5.2f  first %s  VmRSS %6.1f MiB  VmHWM %6.1f MiB  VmRSS+%ss %6.1f MiB\n",
			n, o - a, r - a, f, rss / 1024, hwm / 1024, s, rss2 / 1024
	}'
	sets=$(grep -c '"msg":"bucket CORS configuration set"' "$work/$name.log" || true)
	grep -h -o '"msg":"bucket CORS configurations loaded"[^}]*' "$work/$name.log" | sed 's/^/  log: /' || true
	echo "  per-bucket \"set\" lines at start: $sets"
}

for scenario in $SCENARIOS; do
	case $scenario in
	distinct)
		generate distinct "${BUCKETS:-100000}" "${RULES:-3}"
		start distinct "$work/distinct"
		measure distinct 200
		stop
		;;
	wide)
		generate wide "${BUCKETS:-10000}" "${RULES:-100}"
		start wide "$work/wide"
		measure wide 200
		stop
		;;
	shared)
		generate shared "${BUCKETS:-100000}" "${RULES:-3}" -shared
		start shared "$work/shared"
		measure shared 200
		stop
		;;
	empty)
		mkdir -p "$work/empty"
		bucket=bkt00000 origin=https://app0.bucket0.example.com
		start empty "$work/empty"
		measure empty 403
		stop
		;;
	puts)
		mkdir -p "$work/puts"
		admin=$(free_port)
		start puts-node "$work/puts" "$admin"
		until curl -s -o /dev/null "http://127.0.0.1:$admin/config/"; do sleep 0.05; done
		echo "puts: $PUTS configurations x 3 rules, one PUT at a time through the admin API"
		cpu0=$(node_cpu)
		"$work/putbuckets" -admin "http://127.0.0.1:$admin" -buckets "$PUTS" -rules 3 | sed 's/^/  /'
		awk -v a="$cpu0" -v b="$(node_cpu)" -v n="$PUTS" -v t="$(getconf CLK_TCK)" \
			'BEGIN { printf "  node CPU for the PUTs: %.1f s, %.0f us a PUT\n", (b - a) / t, (b - a) / t / n * 1e6 }'
		stop
		bucket="bkt$(printf %05d $((PUTS - 1)))" origin="https://app2.bucket$((PUTS - 1)).example.com"
		start puts-restart "$work/puts"
		measure puts-restart 200
		stop
		;;
	*)
		echo "bench-scale: unknown scenario $scenario" >&2
		exit 2
		;;
	esac
done
