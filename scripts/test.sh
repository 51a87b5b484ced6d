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

mkdir -p .jest-cache
status=0
jest() { NODE_OPTIONS=--experimental-vm-modules npx jest --json "$@"; }
if [ "$#" -eq 0 ]; then
  # The whole suite. The fuzz sample runs in a jest process of its own, after the rest: inside
  # the parallel run its worker grew past 4 GB and was killed (and took 600 s when it lived),
  # while alone it takes about 13 s and 0.8 GB. Cause not found yet; see README "npm run fuzz".
  jest --outputFile=.jest-cache/results.json --testPathIgnorePatterns '/test/fuzz/' || status=$?
  jest --outputFile=.jest-cache/results-fuzz.json test/fuzz || status=$?
  outputs=(.jest-cache/results.json .jest-cache/results-fuzz.json)
else
  jest --outputFile=.jest-cache/results.json "$@" || status=$?
  outputs=(.jest-cache/results.json)
fi
# One plain closing line that any CI log reader understands.
node -e '
  const rs = process.argv.slice(1).map((f) => require(f));
  const sum = (k) => rs.reduce((n, r) => n + r[k], 0);
  console.log(`${sum("numPassedTests")} passed, ${sum("numFailedTests")} failed, ${sum("numPendingTests")} skipped`);
' "${outputs[@]/#/$PWD/}" || true
exit "$status"
