#!/usr/bin/env bash
# From a fresh clone to a running Userz on its embedded defaults (PGlite in ./.userz,
# in-memory cache, local blobs, port 3000): installs everything, then starts the server.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec npm start
