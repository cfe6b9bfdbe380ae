#!/usr/bin/env bash
# Installs what the test suite needs and a fresh machine lacks: Debian's
# Chromium (never a downloaded browser); node and npm when missing (node 20
# or later is required); the npm packages of e2e/browser
# (playwright-core for driving Chromium, esbuild, Uppy and the AWS SDK for
# JavaScript v3 for the upload pages and the node client); the aws cli,
# s3cmd, boto3 and chattr (Debian's packages); MinIO and MinIO's client mc at pinned
# versions. Each step is skipped when its tool is already there, so a second
# run costs seconds. Times on the 2-core development machine, under load:
# npm ci 18 s, s3cmd 23 s (apt-get update included), python3-boto3 26 s,
# mc 15 min (while MinIO and five other builds shared the cores; 2 min of
# CPU).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then
    as_root apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@"
}

if ! command -v chromium >/dev/null 2>&1; then
  echo "== installing Debian's chromium"
  apt_install chromium
fi

if ! command -v aws >/dev/null 2>&1; then
  echo "== installing the aws cli"
  apt_install awscli
fi

if ! command -v s3cmd >/dev/null 2>&1; then
  echo "== installing s3cmd"
  apt_install s3cmd
fi

# chattr, with which a test run as root makes a directory read-only.
if ! command -v chattr >/dev/null 2>&1; then
  echo "== installing chattr (e2fsprogs)"
  apt_install e2fsprogs
fi

# boto3 for the python that runs it: python3 on PATH, or Debian's.
boto3_ok=
for py in python3 /usr/bin/python3; do
  if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import boto3' >/dev/null 2>&1; then
    boto3_ok=1
    break
  fi
done
if [ -z "$boto3_ok" ]; then
  echo "== installing boto3 (python3-boto3)"
  apt_install python3-boto3
fi

# node 20 or later and npm, for e2e/browser (playwright-core and the AWS
# SDK for JavaScript v3 require node 20). Debian 13's nodejs is 20; Debian
# 12's is 18, too old: there, install a newer node before this script.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "== installing Debian's nodejs and npm"
  apt_install nodejs npm
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "install-test-deps: node $(node --version) is too old: e2e/browser needs node 20 or later" >&2
  exit 1
fi

# npm ci again whenever the lockfile is newer than what node_modules holds.
if [ ! -f e2e/browser/node_modules/.package-lock.json ] ||
  [ e2e/browser/package-lock.json -nt e2e/browser/node_modules/.package-lock.json ]; then
  echo "== installing the npm packages of e2e/browser"
  (cd e2e/browser && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ -x scripts/install-minio.sh ]; then
  scripts/install-minio.sh
  MINIO_STREAM=1 scripts/install-minio.sh # notification tests: about a minute more
fi

# MinIO's client, for `mc cors set|get|remove`, into .cache/bin (never from
# PATH: Debian's mc is Midnight Commander). Like MinIO it has no semver
# tags; the pin is what `go list -m github.com/minio/mc@latest` resolved
# to. The build shares most of its modules with MinIO's.
MC_VERSION="${MC_VERSION:-v0.0.0-20250313080218-cf909e1063a9}"
if ! go version -m .cache/bin/mc 2>/dev/null |
  awk '$1 == "mod" && $2 == "github.com/minio/mc" { print $3 }' | grep -qxF "$MC_VERSION"; then
  echo "== building MinIO's mc $MC_VERSION"
  mkdir -p .cache/bin
  GOBIN="$PWD/.cache/bin" go install "github.com/minio/mc@$MC_VERSION"
fi
