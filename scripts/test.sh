#!/usr/bin/env bash
# `npm test`: installs what the tests need when missing (scripts/setup.sh --tests), type
# checks (ts-jest with isolatedModules does not), then runs the whole jest suite against
# the real Postgres (127.0.0.1:5432, db test), Redis (127.0.0.1:6379) and dockerd+runsc.
# Extra arguments go to jest (e.g. `npm test -- test/guardrail`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh --tests
echo "test: type-checking" >&2
npx tsc --noEmit
echo "test: format check (prettier; \`npx prettier --write .\` fixes it)" >&2
npx prettier --check --log-level warn .
echo "test: lint (eslint; \`npm run lint\`)" >&2
npx eslint .
echo "test: unused files, exports and dependencies (knip; \`npm run knip\`)" >&2
npx knip --no-progress
echo "test: dependency rules (dependency-cruiser; \`npm run deps\`)" >&2
npx depcruise src --config .dependency-cruiser.cjs --output-type err

results=".jest-cache/results.json"
mkdir -p .jest-cache
status=0
NODE_OPTIONS=--experimental-vm-modules npx jest --json --outputFile="$results" "$@" || status=$?
# One plain closing line that any CI log reader understands.
node -e '
  const r = require(process.argv[1]);
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
' "$PWD/$results" || true
exit "$status"
