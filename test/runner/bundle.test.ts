import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { serveRunner } from '../../src/broker/index.js';
import { ScriptedModelClient } from '../../src/model/index.js';
import { createTempRepo } from './temp-repo.js';

/**
 * The sandbox runs the runner as one esbuild bundle for Node 18. This builds it the way
 * the image does and drives it over real stdio, as the sandbox driver will.
 */
test('the bundled runner edits the workspace over stdio and exits 0', async () => {
  const out = mkdtempSync(join(tmpdir(), 'userz-bundle-'));
  const repo = createTempRepo();
  try {
    const bundle = join(out, 'runner.mjs');
    await build({ entryPoints: ['src/runner/main.ts'], bundle: true, platform: 'node', target: 'node18', format: 'esm', outfile: bundle, logLevel: 'silent' });
    // Only node builtins may stay external: the sandbox has no node_modules.
    const imports = [...readFileSync(bundle, 'utf8').matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((name) => !name!.startsWith('node:'))).toEqual([]);

    const child = spawn(process.execPath, [bundle, repo.root], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const client = new ScriptedModelClient([
      { toolCalls: [{ id: 'c1', name: 'edit_file', arguments: { path: 'src/app.js', search: 'x = 1', replace: 'x = 2' } }] },
      { content: 'Changed x.' },
    ]);
    const outcome = await serveRunner({
      fromRunner: child.stdout,
      toRunner: child.stdin,
      client,
      task: { system: 's', prompt: 'p' },
      budget: { maxTurns: 5, maxInputTokens: 100_000, maxOutputTokens: 10_000, maxCostUsd: 1 },
    });
    expect(outcome).toMatchObject({ kind: 'completed', summary: 'Changed x.' });
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
    expect(repo.git('status', '--porcelain')).toBe(' M src/app.js\n');
  } finally {
    rmSync(out, { recursive: true, force: true });
    repo.remove();
  }
});
