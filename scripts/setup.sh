#!/usr/bin/env bash
# Installs what Userz needs on a Debian machine, idempotently and quickly when present:
#   - npm packages (npm ci when node_modules is missing or older than package-lock.json)
#   - the sandbox engine: docker.io + runsc (gVisor) + debootstrap, dockerd running
#     (scripts/install-sandbox.sh)
#   - the sandbox images, built offline (scripts/build-sandbox-image.sh; skipped when current)
#   - with --tests: Debian's Chromium for the widget's browser test
# Run as root (or with sudo available). USERZ_SANDBOX=off skips the sandbox steps.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf 'setup: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
for_tests=no
[ "${1:-}" = "--tests" ] && for_tests=yes

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

if [ "${USERZ_SANDBOX:-docker}" != "off" ]; then
  bash scripts/install-sandbox.sh
  bash scripts/build-sandbox-image.sh >/dev/null
fi

if [ "$for_tests" = yes ] && [ ! -x /usr/bin/chromium ]; then
  log "installing Debian's chromium for the browser tests"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# test/sandbox/syscalls.test.ts compiles a static C probe (gcc -static needs libc6-dev's libc.a).
if [ "$for_tests" = yes ] && ! { command -v gcc >/dev/null 2>&1 && [ -f "$(gcc -print-file-name=libc.a)" ]; }; then
  log "installing gcc and libc6-dev for the sandbox syscall test"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libc6-dev >/dev/null
fi
