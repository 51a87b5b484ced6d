/** Operator commands against the real engine: `userz doctor`, `userz sandbox run`, `userz sandbox build`. */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runDoctor, runSandboxBuild, sandboxRun } from '../../src/sandbox/index.js';
import { prepareSandboxEngine, testSandboxConfig } from './engine.js';

beforeAll(() => prepareSandboxEngine(), 120_000);

describe('runDoctor', () => {
  it('passes every check, isolation self-test included, on a correctly installed host', async () => {
    const checks = await runDoctor(testSandboxConfig('doctor'));
    expect(checks.map((c) => [c.name, c.ok])).toEqual([
      ['dockerd', true],
      ['runsc runtime', true],
      ['sandbox image', true],
      ['sandbox starts', true],
      ['no network', true],
      ['uid 1000', true],
      ['no capabilities', true],
      ['read-only root', true],
    ]);
    expect(checks.find((c) => c.name === 'runsc runtime')!.detail).toContain('--network=none');
    expect(checks.find((c) => c.name === 'runsc runtime')!.detail).toContain('--host-uds=open');
  }, 60_000);

  it('fails the image check, and stops there, when the image is missing', async () => {
    const checks = await runDoctor(testSandboxConfig('doctor-missing', { image: 'userz-sandbox:does-not-exist' }));
    expect(checks.map((c) => [c.name, c.ok])).toEqual([
      ['dockerd', true],
      ['runsc runtime', true],
      ['sandbox image', false],
    ]);
  }, 30_000);
});

describe('sandboxRun', () => {
  it('runs a command over a copy of a host directory in a sandbox configured as a run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'userz-sandbox-run-'));
    writeFileSync(join(dir, 'hello.txt'), 'hello from the host\n');
    const res = await sandboxRun({
      workspace: dir,
      argv: ['node', '-e', 'process.stdout.write(require("fs").readFileSync("/work/hello.txt", "utf8") + process.getuid())'],
      config: testSandboxConfig('run'),
    });
    expect({ exitCode: res.exitCode, stdout: res.stdout.toString() }).toEqual({ exitCode: 0, stdout: 'hello from the host\n1000' });
  }, 60_000);
});

describe('runSandboxBuild', () => {
  it('reports the current sandbox image tag without rebuilding it', async () => {
    const out = new PassThrough();
    let log = '';
    out.on('data', (c: Buffer) => (log += c.toString()));
    const tag = await runSandboxBuild(out);
    expect(tag).toMatch(/^userz-sandbox:[0-9a-f]{12}$/);
    expect(log).toContain(`sandbox image ${tag} is current`);
  }, 120_000);
});
