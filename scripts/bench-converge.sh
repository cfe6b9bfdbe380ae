#!/usr/bin/env bash
# Convergence: two sidecars (the binary built from cmd/caddy) sharing their
# configurations through object_store on one MinIO. WRITES configurations
# are stored one at a time through node A's admin API, and node B is probed
# until it serves each (bench/converge); printed are the percentiles of
# those times, with MinIO's bucket notifications on and with them off (the
# sync_interval alone), and B's notification metrics.
#
# Notifications need a MinIO whose streams reach the client: the pinned
# build never flushes them (see scripts/install-minio.sh), so the default is
# .cache/bin/minio-stream (MINIO_STREAM=1 scripts/install-minio.sh) when it
# exists. With another MINIO_BIN the "on" run shows what that MinIO does.
#
#   scripts/bench-converge.sh
#   WRITES=50 SYNC_INTERVAL=5s MODES=on scripts/bench-converge.sh
set -euo pipefail
cd "$(dirname "$0")/.."

WRITES=${WRITES:-200}
SYNC_INTERVAL=${SYNC_INTERVAL:-1s}
MODES=${MODES:-on off}
if [ -z "${MINIO_BIN:-}" ]; then
	if [ -x .cache/bin/minio-stream ]; then MINIO_BIN=.cache/bin/minio-stream; else MINIO_BIN=minio; fi
fi

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
wait_http() { # wait_http URL WHAT
	for _ in $(seq 600); do
		curl -s -o /dev/null "$1" && return 0
		sleep 0.05
	done
	echo "bench-converge: $2 not answering at $1" >&2
	exit 1
}

echo "bench-converge: building" >&2
go build -o "$work/caddy" ./cmd/caddy
go build -o "$work/converge" ./bench/converge

minio_port=$(free_port)
key=bench-admin secret=bench-secret-$$
MINIO_ROOT_USER=$key MINIO_ROOT_PASSWORD=$secret MINIO_UPDATE=off \
	"$MINIO_BIN" server --quiet --address "127.0.0.1:$minio_port" \
	--console-address "127.0.0.1:$(free_port)" "$work/minio" >"$work/minio.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$minio_port/minio/health/live" MinIO
until curl -sf -o /dev/null "http://127.0.0.1:$minio_port/minio/health/cluster"; do sleep 0.1; done
echo "# $(date -u +%FT%TZ) nproc=$(nproc) go=$(go env GOVERSION) minio=$MINIO_BIN sync_interval=$SYNC_INTERVAL writes=$WRITES"

# node NAME NOTIFY: start a sidecar; sets admin and port (its admin API and
# HTTP ports).
node() {
	local name=$1 notify=$2
	admin=$(free_port) port=$(free_port)
	cat >"$work/$name.json" <<JSON
{
	"admin": {"listen": "127.0.0.1:$admin", "config": {"persist": false}},
	"storage": {"module": "file_system", "root": "$work/$name-data"},
	"apps": {
		"s3_cors": {
			"sync_interval": "$SYNC_INTERVAL",
			"object_store": {"endpoint": "127.0.0.1:$minio_port", "access_key": "$key", "secret_key": "$secret",
				"bucket": "caddy-s3cors", "notifications": $notify}
		},
		"http": {"servers": {"converge": {
			"listen": ["127.0.0.1:$port"],
			"automatic_https": {"disable": true},
			"metrics": {},
			"routes": [{"handle": [
				{"handler": "s3_cors"},
				{"handler": "static_response", "status_code": 200, "body": "hello"}
			]}]
		}}}
	}
}
JSON
	"$work/caddy" run --config "$work/$name.json" >"$work/$name.log" 2>&1 &
	pids+=($!)
	wait_http "http://127.0.0.1:$admin/config/" "node $name"
}

# metric ADMIN NAME: the value of caddy_s3_cors_NAME on a node.
metric() {
	curl -s "http://127.0.0.1:$1/metrics" | awk -v m="caddy_s3_cors_$2" '$1 == m { print $2 }'
}

first=0
for mode in $MODES; do
	case $mode in
	on) notify=true ;;
	off) notify=false ;;
	*)
		echo "bench-converge: unknown mode $mode" >&2
		exit 2
		;;
	esac
	node "a-$mode" "$notify"
	a_admin=$admin
	node "b-$mode" "$notify"
	b_admin=$admin b_port=$port
	if [ "$notify" = true ]; then
		# MinIO sends the stream's headers with its first ping, 10 s in.
		for _ in $(seq 300); do
			[ "$(metric "$b_admin" notifications_up)" = 1 ] && break
			sleep 0.1
		done
	fi
	echo "notifications $mode: B's notifications_up $(metric "$b_admin" notifications_up)"
	"$work/converge" -admin "http://127.0.0.1:$a_admin" -node "http://127.0.0.1:$b_port" \
		-writes "$WRITES" -first "$first" -spread "$SYNC_INTERVAL" | sed 's/^/  /'
	echo "  B: sync_runs_total $(metric "$b_admin" sync_runs_total), sync_notified_total $(metric "$b_admin" sync_notified_total)"
	first=$((first + WRITES))
	for p in "${pids[@]:1}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	pids=("${pids[0]}")
done
