/**
 * The real sandbox engine for tests: dockerd with runsc (scripts/install-sandbox.sh) and a
 * current userz-sandbox image (scripts/build-sandbox-image.sh). Every test file gets its
 * own instance label and workspace root, so one file's reaper never touches another's.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SandboxConfigInput } from '../../src/sandbox/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const MiB = 1024 * 1024;

let prepared = false;

/** Installs/starts the engine and builds the image when stale: quick when both are current. */
export function prepareSandboxEngine(): void {
  if (prepared) return;
  execFileSync('bash', [join(root, 'scripts/install-sandbox.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync('bash', [join(root, 'scripts/build-sandbox-image.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  prepared = true;
}

/** Small limits: runsc needs ~40 pids and ~100 MB just to idle with Node. */
export function testSandboxConfig(name: string, overrides: SandboxConfigInput = {}): SandboxConfigInput {
  return {
    poolSize: 0,
    instance: `test-${name}-${process.pid}`,
    workspaceRoot: mkdtempSync(join(tmpdir(), `userz-sbx-${name}-`)),
    reapIntervalMs: 3_600_000,
    ...overrides,
    limits: { memoryBytes: 512 * MiB, cpus: 1, pids: 1024, tmpBytes: 16 * MiB, workspaceBytes: 64 * MiB, wallClockMs: 120_000, ...overrides.limits },
  };
}

export const REPO_ROOT = root;
