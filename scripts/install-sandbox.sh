#!/usr/bin/env bash
# Installs and starts the sandbox engine: Debian's dockerd with gVisor's runsc registered
# as the `runsc` runtime (runtimeArgs --network=none: runsc refuses to start otherwise in
# the root network namespace, and Userz sandboxes never have a network anyway).
#
# Idempotent and quick when everything is already in place: packages are installed only
# when missing (apt-get update only then), daemon.json is rewritten only when its runsc
# entry differs (other keys are kept), dockerd is started only when `docker info` does not
# answer, and sent SIGHUP only when the runtime configuration changed.
#
# --host-uds=open lets a sandbox connect to a host Unix socket that is visible through one
# of its bind mounts (never create one on the host). The only such socket is setup's
# egress proxy (src/sandbox/egress/), in a read-only directory mount that holds it only
# while setup runs; a bind mount of the socket file itself does not start under runsc
# ("mount submount: operation not permitted"), and without the flag connect() is EPERM.
#
# Environment: DOCKERD_LOG (default /tmp/dockerd.log), SANDBOX_READY_TIMEOUT (s, default 60).
set -euo pipefail

log() { printf 'install-sandbox: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# 1. Packages, only the missing ones.
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v runsc >/dev/null 2>&1 || missing+=(runsc)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
runsc_path="$(command -v runsc)"

# 2. daemon.json: set runtimes.runsc, keep every other key, write atomically on change.
daemon_json=/etc/docker/daemon.json
as_root mkdir -p /etc/docker
changed="$(as_root env RUNSC_PATH="$runsc_path" DAEMON_JSON="$daemon_json" node --input-type=module -e '
  import { readFileSync, writeFileSync, renameSync } from "node:fs";
  const file = process.env.DAEMON_JSON;
  let current = {};
  try { current = JSON.parse(readFileSync(file, "utf8")); } catch (e) {
    if (e.code !== "ENOENT") { console.error(`daemon.json unreadable, replacing it: ${e.message}`); }
  }
  if (typeof current !== "object" || current === null || Array.isArray(current)) current = {};
  const wanted = { path: process.env.RUNSC_PATH, runtimeArgs: ["--network=none", "--host-uds=open"] };
  const runtimes = typeof current.runtimes === "object" && current.runtimes !== null ? current.runtimes : {};
  if (JSON.stringify(runtimes.runsc) === JSON.stringify(wanted)) { console.log("no"); process.exit(0); }
  const next = { ...current, runtimes: { ...runtimes, runsc: wanted } };
  writeFileSync(file + ".tmp", JSON.stringify(next, null, 2) + "\n");
  renameSync(file + ".tmp", file);
  console.log("yes");
')"

# 3. dockerd: start when it does not answer, reload when the runtime config changed.
docker_answers() { docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; }
runsc_registered() { docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q '"runsc"'; }

if docker_answers; then
  if [ "$changed" = yes ]; then
    pid="$(cat /var/run/docker.pid 2>/dev/null || pidof dockerd || true)"
    if [ -n "$pid" ]; then
      log "runtime config changed, reloading dockerd"
      as_root kill -HUP "$pid"
    fi
  fi
else
  log "starting dockerd"
  as_root setsid dockerd >"${DOCKERD_LOG:-/tmp/dockerd.log}" 2>&1 </dev/null &
fi

deadline=$((SECONDS + ${SANDBOX_READY_TIMEOUT:-60}))
until docker_answers && runsc_registered; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    log "dockerd did not become ready with the runsc runtime; see ${DOCKERD_LOG:-/tmp/dockerd.log}"
    exit 1
  fi
  sleep 0.2
done
log "ready"
