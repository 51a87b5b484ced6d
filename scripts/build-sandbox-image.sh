#!/usr/bin/env bash
# Builds the run sandbox's images without any container registry:
#   1. userz-sandbox-base:<hash>  Debian bookworm minbase + git, ca-certificates, made by
#      debootstrap from the host's own Debian mirror and `docker import`ed.
#      <hash> covers this script (the only thing that shapes the base).
#   2. userz-sandbox:<hash>       sandbox-image/Dockerfile on that base, with this host's
#      own node and npm (the Node 20 that runs Userz; repositories' setup runs `npm ci`)
#      and the agent runner (src/runner/main.ts) bundled by esbuild. <hash> covers this
#      script, the base and every file of the build context (Dockerfile, node, npm, the
#      runner bundle). Also tagged userz-sandbox:current.
# Why the host's node and not Debian's: bookworm's `npm` package is ~400 node-* packages
# that debootstrap cannot resolve (virtual packages), and its nodejs (18) is too old for
# a current npm. Copying node and npm takes seconds; the build checks that both run.
# Each step is skipped when its tagged image already exists, so a second run takes about
# as long as the esbuild bundle. The last line on stdout is the sandbox image tag.
#
# Environment: RUNNER_ENTRY (default src/runner/main.ts), DEBIAN_MIRROR (default: read
# from the host's apt sources), DEBIAN_SUITE (default bookworm), SANDBOX_NODE (default:
# the `node` on PATH; its npm is the `npm` on PATH).
set -euo pipefail

log() { printf 'build-sandbox-image: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
hash_of() { cat "$@" | sha256sum | cut -c1-12; }

self="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
root="$(cd "$(dirname "$self")/.." && pwd)"
dockerfile="$root/sandbox-image/Dockerfile"
runner_entry="${RUNNER_ENTRY:-$root/src/runner/main.ts}"
suite="${DEBIAN_SUITE:-bookworm}"

# Two builds at once (parallel test workers, CLI and CI) would race on the tags.
exec 9>"${TMPDIR:-/tmp}/userz-sandbox-build.lock"
flock 9

work="$(mktemp -d "${TMPDIR:-/tmp}/userz-sandbox-build.XXXXXX")"
cleanup() { as_root rm -rf "$work"; }
trap cleanup EXIT

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# The first `deb` source for the suite in the host's apt configuration (deb822 .sources
# files and one-line .list files), so the build uses whatever mirror this host trusts.
find_debian_mirror() {
  node --input-type=module -e '
    import { readdirSync, readFileSync, existsSync } from "node:fs";
    const suite = process.argv[1];
    const files = [];
    const dir = "/etc/apt/sources.list.d";
    if (existsSync(dir)) for (const f of readdirSync(dir).sort()) if (/\.(sources|list)$/.test(f)) files.push(`${dir}/${f}`);
    if (existsSync("/etc/apt/sources.list")) files.push("/etc/apt/sources.list");
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      if (file.endsWith(".sources")) {
        for (const stanza of text.split(/\n\s*\n/)) {
          const field = {};
          for (const line of stanza.split("\n")) {
            const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
            if (m) field[m[1].toLowerCase()] = m[2].trim();
          }
          const words = (k) => (field[k] ?? "").split(/\s+/).filter(Boolean);
          if (field.enabled === "no" || !words("types").includes("deb") || !words("suites").includes(suite)) continue;
          const uri = words("uris")[0];
          if (uri) { console.log(uri); process.exit(0); }
        }
      } else {
        for (const line of text.split("\n")) {
          const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
          if (m && m[2] === suite) { console.log(m[1]); process.exit(0); }
        }
      }
    }
    process.exit(1);
  ' "$suite"
}

# 1. Base image.
base="userz-sandbox-base:$(hash_of "$self")"
if image_exists "$base"; then
  log "base image $base is current"
else
  mirror="${DEBIAN_MIRROR:-$(find_debian_mirror || true)}"
  if [ -z "$mirror" ]; then
    log "no deb source for $suite in the host's apt sources; set DEBIAN_MIRROR"
    exit 1
  fi
  log "building base image $base from $suite"
  as_root debootstrap --variant=minbase --include=git,ca-certificates \
    "$suite" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -20 "$work/debootstrap.log" >&2
    exit 1
  }
  # Package caches and lists are of no use in a read-only, offline sandbox.
  as_root find "$work/rootfs/var/cache/apt" "$work/rootfs/var/lib/apt/lists" -type f -delete
  as_root tar -C "$work/rootfs" --numeric-owner -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'LABEL userz.role=image' \
    - "$base" >/dev/null
  as_root rm -rf "$work/rootfs"
fi

# 2. Sandbox image with the runner.
if [ ! -f "$runner_entry" ]; then
  log "runner entry $runner_entry not found: the runner must exist before the sandbox image can be built"
  exit 1
fi
mkdir -p "$work/context"
cp "$dockerfile" "$work/context/Dockerfile"
# node: a standalone binary (glibc, libstdc++ only: both in the base). npm: its package
# directory, as `npm install -g npm` lays it out.
node_bin="$(readlink -f "${SANDBOX_NODE:-$(command -v node)}")"
npm_cli="$(command -v npm || true)"
if [ ! -x "$node_bin" ] || [ -z "$npm_cli" ]; then
  log "node and npm must be on PATH (or SANDBOX_NODE set): the sandbox image carries them"
  exit 1
fi
npm_dir="$(dirname "$(dirname "$(readlink -f "$npm_cli")")")"
if [ ! -f "$npm_dir/package.json" ] || [ ! -f "$npm_dir/bin/npm-cli.js" ]; then
  log "npm at $npm_cli is not an npm package directory ($npm_dir)"
  exit 1
fi
cp "$node_bin" "$work/context/node"
cp -R "$npm_dir" "$work/context/npm"
esbuild="$root/node_modules/.bin/esbuild"
[ -x "$esbuild" ] || esbuild="npx esbuild"
# The banner gives the ESM bundle a `require` for CommonJS dependencies that load builtins.
$esbuild "$runner_entry" --bundle --platform=node --target=node20 --format=esm \
  --banner:js="import { createRequire as __userzCreateRequire } from 'node:module'; const require = __userzCreateRequire(import.meta.url);" \
  --log-level=warning --outfile="$work/context/runner.mjs"

# Every file of the context by path and content, so a new node, npm, runner or Dockerfile is a new tag.
context_sum="$(cd "$work/context" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64)"
image="userz-sandbox:$(printf '%s\n%s\n' "$base" "$context_sum" | cat "$self" - | sha256sum | cut -c1-12)"
if image_exists "$image"; then
  log "sandbox image $image is current"
else
  log "building sandbox image $image"
  DOCKER_BUILDKIT=0 docker build --quiet --build-arg "BASE=$base" --label userz.role=image \
    -t "$image" "$work/context" >/dev/null
fi
docker tag "$image" userz-sandbox:current
echo "$image"
