/**
 * Resource limits of a real runsc sandbox: memory, processes and the wall clock end the
 * sandbox that passes them and nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DockerRunscDriver, type Sandbox, type SandboxLimits } from '../../src/sandbox/index.js';
import { createDockerClient } from '../../src/sandbox/docker-client.js';
import { prepareSandboxEngine, testSandboxConfig } from './engine.js';

const MiB = 1024 * 1024;
const docker = createDockerClient();
const drivers: DockerRunscDriver[] = [];

async function openDriver(name: string, limits: Partial<SandboxLimits>): Promise<DockerRunscDriver> {
  const driver = await DockerRunscDriver.open(testSandboxConfig(name, { limits }));
  drivers.push(driver);
  return driver;
}

const outcomeOf = (p: Promise<{ exitCode: number; stdout: Buffer }>) =>
  p.then(
    (r) => ({ exitCode: r.exitCode, stdout: r.stdout.toString(), code: undefined as string | undefined }),
    (e: { code?: string }) => ({ exitCode: undefined, stdout: '', code: e.code }),
  );

async function stillWorks(driver: DockerRunscDriver): Promise<number> {
  const fresh = await driver.acquire('run-after');
  try {
    return (await fresh.exec(['node', '-e', 'process.exit(0)'])).exitCode;
  } finally {
    await fresh.destroy();
  }
}

beforeAll(() => prepareSandboxEngine(), 120_000);

afterAll(async () => {
  await Promise.all(drivers.map((d) => d.close()));
});

describe('memory', () => {
  it('kills only the sandbox that allocates past its memory limit', async () => {
    const driver = await openDriver('memory', { memoryBytes: 384 * MiB });
    const hog = await driver.acquire('run-hog');
    const bystander = await driver.acquire('run-bystander');
    try {
      // Bounded at 2 GiB so a missing limit fails the test instead of exhausting the host.
      const outcome = await outcomeOf(
        hog.exec(['node', '-e', 'const a = []; for (let i = 0; i < 32; i++) a.push(Buffer.alloc(64 * 1024 * 1024, 1)); console.log("survived")']),
      );
      expect(outcome.stdout).not.toContain('survived');
      // The allocation must not succeed. How it ends varies with timing: usually the whole
      // sandbox is lost or the OOM killer ends the process (137), but on a loaded machine the
      // exec's stream can break before Docker reports the container stopped (seen once in CI).
      expect(outcome.exitCode).not.toBe(0);
      expect((await bystander.exec(['node', '-e', 'process.exit(0)'])).exitCode).toBe(0);
      expect(await stillWorks(driver)).toBe(0);
    } finally {
      await hog.destroy();
      await bystander.destroy();
    }
  }, 120_000);
});

describe('processes', () => {
  it('contains a fork bomb with the pids limit', async () => {
    // Memory large enough that only the pids limit can stop 2000 processes (measured: 2 GiB does not).
    const driver = await openDriver('pids', { memoryBytes: 2048 * MiB });
    const sandbox = await driver.acquire('run-bomb');
    try {
      // No shell is guaranteed to the agent, so the bomb is Node spawning in a loop.
      const outcome = await outcomeOf(
        sandbox.exec(
          [
            'node',
            '-e',
            String.raw`
              const { spawn } = require('child_process');
              (async () => {
                let ok = 0, failed = 0;
                for (let i = 0; i < 2000 && failed === 0; i++) {
                  await new Promise((resolve) => {
                    const c = spawn('sleep', ['1000'], { stdio: 'ignore', detached: true });
                    c.once('spawn', () => { ok++; resolve(); });
                    c.once('error', () => { failed++; resolve(); });
                  });
                }
                console.log(JSON.stringify({ ok, failed }));
                process.exit(0);
              })();`,
          ],
          { timeoutMs: 90_000 },
        ),
      );
      // Contained means: the bomb never got its 2000 processes, whether spawning was refused,
      // Node died on a failed thread, or runsc ended the whole sandbox (its threads count too).
      const report = /^\{.*\}$/m.exec(outcome.stdout)?.[0];
      const spawned = report ? (JSON.parse(report) as { ok: number }).ok : 0;
      expect(spawned).toBeLessThan(1024);
      expect(outcome.code === 'sandbox_lost' || outcome.exitCode !== undefined).toBe(true);
      expect(await stillWorks(driver)).toBe(0);
    } finally {
      await sandbox.destroy();
    }
  }, 150_000);
});

describe('wall clock', () => {
  it('kills a run past its wall clock and removes its container and workspace', async () => {
    const driver = await openDriver('wallclock', { wallClockMs: 4_000 });
    const sandbox = (await driver.acquire('run-slow')) as Sandbox & { sandboxId: string };
    const root = driver.config.workspaceRoot;
    expect(existsSync(join(root, sandbox.sandboxId))).toBe(true);
    const runner = sandbox.spawn(['sleep', '60']);
    const outcome = await outcomeOf(sandbox.exec(['sleep', '60']));
    expect(outcome.code).toBe('sandbox_timeout');
    await expect(runner.wait()).rejects.toMatchObject({ code: 'sandbox_timeout' });
    await sandbox.destroy();
    const left = await docker.listContainers({ all: true, filters: { label: [`userz.run-id=run-slow`, `userz.instance=${driver.config.instance}`] } });
    expect(left).toEqual([]);
    expect(existsSync(join(root, sandbox.sandboxId))).toBe(false);
    await expect(sandbox.exec(['true'])).rejects.toMatchObject({ code: 'sandbox_timeout' });
  }, 60_000);
});
