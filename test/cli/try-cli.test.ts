import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareSandboxEngine } from '../sandbox/engine.js';

import { jest } from '@jest/globals';

jest.setTimeout(300_000);

const BIN = fileURLToPath(new URL('../../bin/userz.js', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../examples/try/', import.meta.url));

interface TryJson {
  checks: { status: string; commands: Array<{ command: string; exitCode: number | null }> };
  verdict: { allowed: boolean; violations: Array<{ path: string; rule: string }> };
  reproduced: boolean;
  diff: string;
  egress: unknown[];
  cost: { usd: number };
}

/** `userz try --json` on examples/try with one of its scripts, as a user runs it (no model configured). */
function userzTry(script: string, dataDir: string): Promise<{ code: number; json: TryJson; stderr: string }> {
  const args = [BIN, 'try', '--repo', join(EXAMPLE, 'repo'), '--report', join(EXAMPLE, 'report.json'), '--script', join(EXAMPLE, script), '--json'];
  const env = {
    PATH: process.env.PATH!,
    HOME: process.env.HOME ?? '/root',
    USERZ_DATA_DIR: dataDir,
    USERZ_SANDBOX_MEMORY_MB: '512',
    USERZ_SANDBOX_WORKSPACE_MB: '64',
    USERZ_SANDBOX_CPUS: '1',
  };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { env, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? -1) : 0;
      try {
        resolve({ code: typeof code === 'number' ? code : -1, json: JSON.parse(stdout) as TryJson, stderr });
      } catch {
        reject(new Error(`userz try printed no JSON (exit ${String(code)}): ${stderr.slice(-2000)}`));
      }
    });
  });
}

describe('userz try on examples/try, with the real sandbox', () => {
  let dataDir: string;
  beforeAll(() => prepareSandboxEngine());
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'userz-try-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('the fix script: checks pass, the reproducing test failed before and passes after, the guardrail allows the diff', async () => {
    const { code, json } = await userzTry('fix.script.json', dataDir);
    expect(code).toBe(0);
    expect(json.checks).toMatchObject({ status: 'passed', commands: [{ command: 'node --test test/', exitCode: 0 }] });
    expect(json.reproduced).toBe(true);
    expect(json.verdict).toEqual({ allowed: true, violations: [] });
    expect(json.diff).toContain('+  return item.price * (item.quantity ?? 1);');
    expect(json.diff).toContain('+++ b/test/quantity.test.js');
    // What setup wrote (.cache/) is not part of the change.
    expect(json.diff).not.toContain('.cache');
    expect(json.egress).toEqual([]);
  });

  it('the forbidden script: the guardrail refuses the workflow change by path and rule, and exits 1', async () => {
    const { code, json } = await userzTry('forbidden.script.json', dataDir);
    expect(code).toBe(1);
    expect(json.verdict.allowed).toBe(false);
    expect(json.verdict.violations).toEqual([expect.objectContaining({ path: '.github/workflows/ci.yml', rule: 'ci.github_workflows' })]);
    expect(json.checks.status).toBe('passed');
    expect(json.reproduced).toBe(false);
    expect(json.diff).toContain('.github/workflows/ci.yml');
  });
});
