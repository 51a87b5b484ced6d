#!/usr/bin/env bash
# A local Node 20 base image for the production Dockerfile, where no container registry is
# reachable: the debootstrapped Debian base the sandbox uses, plus this host's own node and
# npm, and this host's CA bundle (so npm inside `docker build` trusts the same TLS as the
# host does). Tagged userz-node-base:local; rebuilt only when node or the base changes.
# Usage: bash scripts/build-node-base.sh   (prints the tag)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

sandbox_base="$(docker images userz-sandbox-base --format '{{.Repository}}:{{.Tag}}' | grep -v '<none>' | head -n1)"
if [ -z "$sandbox_base" ]; then
  bash scripts/build-sandbox-image.sh >/dev/null
  sandbox_base="$(docker images userz-sandbox-base --format '{{.Repository}}:{{.Tag}}' | grep -v '<none>' | head -n1)"
fi
node_bin="$(command -v node)"
npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
key="$( (echo "$sandbox_base"; sha256sum "$node_bin" "$0"; cat "$npm_dir/package.json") | sha256sum | cut -c1-12)"
tag="userz-node-base:$key"

if ! docker image inspect "$tag" >/dev/null 2>&1; then
  ctx="$(mktemp -d)"
  trap 'rm -rf "$ctx"' EXIT
  cp "$node_bin" "$ctx/node"
  cp -r "$npm_dir" "$ctx/npm"
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/host-ca.crt"
  cat > "$ctx/Dockerfile" <<DOCKERFILE
FROM $sandbox_base
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY host-ca.crt /etc/ssl/certs/host-ca.crt
RUN ln -sf ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && node --version
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/host-ca.crt
DOCKERFILE
  docker build -q -t "$tag" "$ctx" >/dev/null
fi
docker tag "$tag" userz-node-base:local
echo userz-node-base:local
