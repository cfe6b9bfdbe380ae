#!/usr/bin/env bash
# Installs what the test suite needs and a fresh machine lacks: Debian's
# Chromium (never a downloaded browser), playwright-core for driving it, the
# aws cli, and MinIO at the pinned version. Each step is skipped when its
# tool is already there, so a second run costs seconds.
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

if [ ! -d e2e/browser/node_modules/playwright-core ]; then
  echo "== installing playwright-core"
  (cd e2e/browser && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ -x scripts/install-minio.sh ]; then
  scripts/install-minio.sh
fi
