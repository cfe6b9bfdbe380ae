#!/usr/bin/env bash
# Network benchmark of s3_cors on loopback, with wrk.
#
# Builds ./cmd/caddy once, starts an upstream (the same binary, file_server
# with MinIO's permissive CORS headers, serving a 1 KiB and a 1 MiB object)
# and one front Caddy process with four sites, all on 127.0.0.1:
#
#   cors     s3_cors (bucket photos, one rule) + reverse_proxy to the upstream
#   plain    reverse_proxy only
#   plain2   reverse_proxy only (identical to plain: the noise floor)
#   respond  a static answer with the very headers s3_cors answers the
#            preflight with (checked before measuring)
#
# and measures, ROUNDS times, in an order that alternates round by round:
#
#   actual-1KiB  cors vs plain, GET /photos/1k.bin with Origin (allowed)
#   actual-1MiB  cors vs plain, GET /photos/1m.bin with Origin (allowed)
#   preflight    cors vs respond, OPTIONS with Origin and
#                Access-Control-Request-Method (allowed)
#   floor        plain2 vs plain, GET /photos/1k.bin
#
# For each pair it prints requests/s, p50 and p99 latency (wrk --latency)
# and the front process's CPU time per request (µs, from /proc: user +
# system time over the run divided by the requests wrk completed) of both,
# then ratio = rps(base) / rps(front) and cpu = CPU a request of the front
# over the base's: each site's cost per request relative to the other's
# (1.00 = same, above 1 = dearer). The CPU ratio is the steadier one on a
# shared machine: time other processes take from the front's core falls
# out of it. Then the median of each over the rounds.
#
# CPUs (taskset): the front Caddy runs on FRONT_CPUS, wrk and the upstream
# on WRK_CPUS and UP_CPUS; on a 2-core machine the front gets core 0 to
# itself and wrk shares core 1 with the upstream, so that the front, whose
# cost is measured, is the bottleneck. Set any of them empty to not pin.
#
# Settings (environment): ROUNDS (5), DURATION (10s), CONNS (32),
# THREADS (1, wrk threads), WARMUP (2s), FRONT_CPUS (0), WRK_CPUS (1),
# UP_CPUS (1), KEEP (1 keeps the temporary directory).
#
#   scripts/bench-proxy.sh
#   ROUNDS=3 DURATION=5s scripts/bench-proxy.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-1}
WARMUP=${WARMUP:-2s}
if [ "$(nproc)" -ge 2 ]; then
	FRONT_CPUS=${FRONT_CPUS-0}
	WRK_CPUS=${WRK_CPUS-1}
	UP_CPUS=${UP_CPUS-1}
else
	FRONT_CPUS=${FRONT_CPUS-} WRK_CPUS=${WRK_CPUS-} UP_CPUS=${UP_CPUS-}
fi

command -v wrk >/dev/null || { echo "bench-proxy: wrk is not installed (apt-get install wrk)" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if [ "${KEEP:-0}" = 1 ]; then
		echo "bench-proxy: kept $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

pin() { # pin CPUS command...: run command on CPUS (unpinned when empty)
	local cpus=$1
	shift
	if [ -n "$cpus" ]; then taskset -c "$cpus" "$@"; else "$@"; fi
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

echo "bench-proxy: building the binary" >&2
go build -o "$work/caddy" ./cmd/caddy

mkdir -p "$work/www/photos" "$work/data-up" "$work/data-front"
head -c 1024 /dev/urandom >"$work/www/photos/1k.bin"
head -c $((1024 * 1024)) /dev/urandom >"$work/www/photos/1m.bin"

up=$(free_port)
cors=$(free_port)
plain=$(free_port)
plain2=$(free_port)
respond=$(free_port)
origin=https://app.example.com

cat >"$work/Caddyfile.up" <<EOF
{
	admin off
	auto_https off
	persist_config off
	storage file_system $work/data-up
	log {
		output discard
	}
}
http://127.0.0.1:$up {
	bind 127.0.0.1
	root * $work/www
	header {
		Server MinIO
		Vary Origin
		Access-Control-Allow-Origin "{http.request.header.Origin}"
		Access-Control-Allow-Credentials true
		Access-Control-Expose-Headers "Date, Etag, Server, Connection, Accept-Ranges, Content-Range, Content-Encoding, Content-Length, Content-Type"
	}
	file_server
}
EOF

cat >"$work/Caddyfile.front" <<EOF
{
	admin off
	auto_https off
	persist_config off
	storage file_system $work/data-front
	log {
		output discard
	}
}
http://127.0.0.1:$cors {
	bind 127.0.0.1
	s3_cors {
		bucket_config photos {
			rule {
				origins $origin
				methods GET HEAD
				headers *
				expose ETag
				max_age 3000
			}
		}
	}
	reverse_proxy 127.0.0.1:$up
}
http://127.0.0.1:$plain {
	bind 127.0.0.1
	reverse_proxy 127.0.0.1:$up
}
http://127.0.0.1:$plain2 {
	bind 127.0.0.1
	reverse_proxy 127.0.0.1:$up
}
http://127.0.0.1:$respond {
	bind 127.0.0.1
	header {
		Access-Control-Allow-Origin $origin
		Access-Control-Allow-Credentials true
		Access-Control-Allow-Methods "GET, HEAD"
		Access-Control-Expose-Headers ETag
		Access-Control-Max-Age 3000
		Vary "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
	}
	respond 200
}
EOF

# Started without a shell function in between, so that $! is Caddy's own
# process id (taskset execs the command).
taskset_up=() taskset_front=()
[ -n "$UP_CPUS" ] && taskset_up=(taskset -c "$UP_CPUS")
[ -n "$FRONT_CPUS" ] && taskset_front=(taskset -c "$FRONT_CPUS")
"${taskset_up[@]}" "$work/caddy" run --adapter caddyfile --config "$work/Caddyfile.up" >"$work/up.log" 2>&1 &
pids+=($!)
"${taskset_front[@]}" "$work/caddy" run --adapter caddyfile --config "$work/Caddyfile.front" >"$work/front.log" 2>&1 &
front_pid=$!
pids+=("$front_pid")

wait_port() {
	for _ in $(seq 1 200); do
		curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0
		sleep 0.05
	done
	echo "bench-proxy: nothing listens on port $1" >&2
	cat "$work/up.log" "$work/front.log" >&2
	exit 1
}
for p in $up $cors $plain $plain2 $respond; do wait_port "$p"; done

# The preflight answers must carry the same headers (Date aside).
preflight_headers() {
	curl -s -D - -o /dev/null -X OPTIONS -H "Origin: $origin" -H "Access-Control-Request-Method: GET" \
		"http://127.0.0.1:$1/photos/1k.bin" | tr -d '\r' | grep -v -i '^date:' | sort
}
if ! diff <(preflight_headers "$cors") <(preflight_headers "$respond") >"$work/preflight.diff"; then
	echo "bench-proxy: the static preflight answer differs from s3_cors':" >&2
	cat "$work/preflight.diff" >&2
	exit 1
fi
# The actual answer of the cors front must carry the rule's headers.
if ! curl -s -D - -o /dev/null -H "Origin: $origin" "http://127.0.0.1:$cors/photos/1k.bin" | tr -d '\r' |
	grep -q -i "^access-control-expose-headers: ETag$"; then
	echo "bench-proxy: s3_cors did not decorate the actual response" >&2
	exit 1
fi

cat >"$work/options.lua" <<'EOF'
wrk.method = "OPTIONS"
wrk.headers["Access-Control-Request-Method"] = "GET"
EOF

# front_cpu_ticks: the front Caddy's user + system time so far, in clock
# ticks (fields 14 and 15 of /proc/PID/stat; the command name, field 2,
# holds no space here).
front_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$front_pid/stat"; }
ticks_per_sec=$(getconf CLK_TCK)

# measure PORT PATH LUA DURATION: prints "rps p50_ms p99_ms cpu_us", cpu_us
# being the front's CPU time a request.
measure() {
	local port=$1 path=$2 lua=$3 dur=$4 args=() cpu0 cpu1
	[ -n "$lua" ] && args=(-s "$lua")
	cpu0=$(front_cpu_ticks)
	pin "$WRK_CPUS" wrk -t"$THREADS" -c"$CONNS" -d"$dur" --latency "${args[@]}" \
		-H "Origin: $origin" "http://127.0.0.1:$port$path" >"$work/wrk.out" 2>&1 || { cat "$work/wrk.out" >&2; exit 1; }
	cpu1=$(front_cpu_ticks)
	awk -v ticks="$((cpu1 - cpu0))" -v hz="$ticks_per_sec" '
		function ms(v) {
			if (v ~ /us$/) return substr(v, 1, length(v)-2) / 1000
			if (v ~ /ms$/) return substr(v, 1, length(v)-2) + 0
			if (v ~ /s$/) return substr(v, 1, length(v)-1) * 1000
			return v
		}
		/^ +50%/ { p50 = ms($2) }
		/^ +99%/ { p99 = ms($2) }
		/^Requests\/sec:/ { rps = $2 }
		/ requests in / { n = $1 }
		/Non-2xx/ { bad = $NF }
		END {
			if (bad != "") { print "bench-proxy: non-2xx answers: " bad > "/dev/stderr"; exit 1 }
			if (n == 0) { print "bench-proxy: wrk completed no request" > "/dev/stderr"; exit 1 }
			printf "%.1f %.3f %.3f %.2f\n", rps, p50, p99, ticks / hz * 1e6 / n
		}' "$work/wrk.out"
}

# Pairs: name base-port front-port path lua.
pairs=(
	"actual-1KiB $plain $cors /photos/1k.bin -"
	"actual-1MiB $plain $cors /photos/1m.bin -"
	"preflight $respond $cors /photos/1k.bin $work/options.lua"
	"floor $plain $plain2 /photos/1k.bin -"
)

echo "bench-proxy: warming up" >&2
for pair in "${pairs[@]}"; do
	read -r name base front path lua <<<"$pair"
	[ "$lua" = - ] && lua=""
	measure "$base" "$path" "$lua" "$WARMUP" >/dev/null
	measure "$front" "$path" "$lua" "$WARMUP" >/dev/null
done

echo "# $(date -u +%FT%TZ) rounds=$ROUNDS duration=$DURATION conns=$CONNS threads=$THREADS front_cpus=${FRONT_CPUS:-any} wrk_cpus=${WRK_CPUS:-any} up_cpus=${UP_CPUS:-any} nproc=$(nproc) go=$(go env GOVERSION)"
results="$work/results"
: >"$results"
printf "%-5s %-12s %-6s %10s %8s %8s %7s   %-6s %10s %8s %8s %7s   %6s %6s\n" round pair base rps p50ms p99ms cpu-us front rps p50ms p99ms cpu-us ratio cpu
for round in $(seq 1 "$ROUNDS"); do
	for pair in "${pairs[@]}"; do
		read -r name base front path lua <<<"$pair"
		[ "$lua" = - ] && lua=""
		if [ $((round % 2)) = 1 ]; then
			b=$(measure "$base" "$path" "$lua" "$DURATION")
			f=$(measure "$front" "$path" "$lua" "$DURATION")
		else
			f=$(measure "$front" "$path" "$lua" "$DURATION")
			b=$(measure "$base" "$path" "$lua" "$DURATION")
		fi
		read -r brps bp50 bp99 bcpu <<<"$b"
		read -r frps fp50 fp99 fcpu <<<"$f"
		ratio=$(awk -v b="$brps" -v f="$frps" 'BEGIN { printf "%.3f", b / f }')
		cpu=$(awk -v b="$bcpu" -v f="$fcpu" 'BEGIN { printf "%.3f", f / b }')
		case $name in
		preflight) bname=respond fname=cors ;;
		floor) bname=plain fname=plain2 ;;
		*) bname=plain fname=cors ;;
		esac
		printf "%-5s %-12s %-6s %10s %8s %8s %7s   %-6s %10s %8s %8s %7s   %6s %6s\n" "$round" "$name" "$bname" "$brps" "$bp50" "$bp99" "$bcpu" "$fname" "$frps" "$fp50" "$fp99" "$fcpu" "$ratio" "$cpu"
		echo "$name $brps $bp50 $bp99 $bcpu $frps $fp50 $fp99 $fcpu $ratio $cpu" >>"$results"
	done
done

echo
echo "medians over $ROUNDS rounds (ratio = rps(base) / rps(front); cpu = front's CPU a request / base's)"
printf "%-12s %10s %8s %8s %7s   %10s %8s %8s %7s   %6s %6s\n" pair base-rps p50ms p99ms cpu-us front-rps p50ms p99ms cpu-us ratio cpu
for pair in "${pairs[@]}"; do
	read -r name _ <<<"$pair"
	line=""
	for col in 2 3 4 5 6 7 8 9 10 11; do
		m=$(awk -v n="$name" -v c="$col" '$1 == n { print $c }' "$results" | sort -g |
			awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
		line="$line $m"
	done
	# shellcheck disable=SC2086
	printf "%-12s %10s %8s %8s %7s   %10s %8s %8s %7s   %6s %6s\n" "$name" $line
done
echo "front Caddy (pid $front_pid, $(tr '\0' ' ' <"/proc/$front_pid/cmdline" | cut -c1-60)...) VmRSS after the run: $(awk '/^VmRSS/ { print $2, $3 }' "/proc/$front_pid/status")"
