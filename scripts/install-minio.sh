#!/usr/bin/env bash
# install-minio.sh installs a pinned MinIO server for the end-to-end and
# ObjectStore tests with `go install`, into a cache directory.
#
# MinIO publishes no semver tags usable by the Go module proxy (its tags are
# RELEASE.<date>), so `go list -m -versions` lists nothing; the pin is the
# pseudo-version that `go list -m github.com/minio/minio@latest` resolved to
# and that is known to build with the Go toolchain of go.mod.
#
# Usage: scripts/install-minio.sh            installs into $MINIO_INSTALL_DIR,
#                                            default <repo>/.cache/bin
# Prints the path of the binary. Skips the build when a binary built from the
# pinned version already exists there. The build takes a few minutes.
set -euo pipefail

MINIO_VERSION="${MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
install_dir="${MINIO_INSTALL_DIR:-$repo_root/.cache/bin}"
bin="$install_dir/minio"

mkdir -p "$install_dir"

# MINIO_STREAM=1 builds minio-stream instead: the same version with one
# method added, so that bucket notification streams reach the client (the
# store tests of notifications need it). Since minio/minio#21651 every S3
# API response writer is a trackingResponseWriter (cmd/api-response.go)
# without Flush, and xhttp.Flush (internal/http/flush.go) asserts
# http.Flusher on it: ListenBucketNotification's flushes do nothing and its
# headers and events wait in net/http's buffers until about 6 KB
# accumulate. After the pinned build, this one recompiles MinIO's cmd
# package and links: about a minute on 2 cores.
if [[ "${MINIO_STREAM:-}" == 1 ]]; then
	bin="$install_dir/minio-stream"
	want="$MINIO_VERSION+flush"
	if [[ -x "$bin" && -f "$bin.version" && "$(cat "$bin.version")" == "$want" ]]; then
		echo "install-minio: $bin is already $want" >&2
		echo "$bin"
		exit 0
	fi
	echo "install-minio: building $bin ($want)" >&2
	start=$(date +%s)
	dir=$(GOFLAGS= go mod download -json "github.com/minio/minio@$MINIO_VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	src=$(mktemp -d)
	trap 'rm -rf "$src"' EXIT
	cp -r "$dir/." "$src"
	chmod -R u+w "$src"
	cat >"$src/cmd/api-response-flush.go" <<'GO'
package cmd

import xhttp "github.com/minio/minio/internal/http"

// Flush forwards to the wrapped writer, so that streaming handlers
// (ListenNotification, trace) reach the client.
func (w *trackingResponseWriter) Flush() { xhttp.Flush(w.ResponseWriter) }
GO
	(cd "$src" && GOFLAGS=-buildvcs=false go build -o "$bin" .)
	echo "$want" >"$bin.version"
	echo "install-minio: built in $(($(date +%s) - start)) s" >&2
	echo "$bin"
	exit 0
fi

# `go version -m` reads the build info embedded by go install: the line
# "mod github.com/minio/minio <version>" identifies what the binary was built from.
if [[ -x "$bin" ]] && go version -m "$bin" 2>/dev/null |
	awk '$1 == "mod" && $2 == "github.com/minio/minio" { print $3 }' |
	grep -qxF "$MINIO_VERSION"; then
	echo "install-minio: $bin is already $MINIO_VERSION" >&2
	echo "$bin"
	exit 0
fi

echo "install-minio: building github.com/minio/minio@$MINIO_VERSION into $install_dir (takes minutes)" >&2
start=$(date +%s)
# `go install pkg@version` resolves MinIO's own go.mod and ignores this
# module's; GOFLAGS is reset so that a caller's flags (-mod=...) cannot break
# the build. On 2 shared cores with an empty module cache it took 134 s.
GOBIN="$install_dir" GOFLAGS=-buildvcs=false go install "github.com/minio/minio@$MINIO_VERSION"
echo "install-minio: built in $(($(date +%s) - start)) s" >&2
echo "$bin"
