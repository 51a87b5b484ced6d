/**
 * Lifecycle: what a crashed host process leaves is reaped, the reaper leaves live
 * sandboxes alone, and the warm pool hands out each pristine sandbox once.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerRunscDriver, type Sandbox } from '../../src/sandbox/index.js';
import { createDockerClient } from '../../src/sandbox/docker-client.js';
import { createWorkspace } from '../../src/sandbox/workspace.js';
import { REPO_ROOT, prepareSandboxEngine, testSandboxConfig } from './engine.js';

const docker = createDockerClient();
const drivers: DockerRunscDriver[] = [];

async function open(input: Parameters<typeof DockerRunscDriver.open>[0]): Promise<DockerRunscDriver> {
  const d = await DockerRunscDriver.open(input);
  drivers.push(d);
  return d;
}

const containersOf = (instance: string) => docker.listContainers({ all: true, filters: { label: [`userz.instance=${instance}`] } });
const isMounted = (path: string) =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === path);

beforeAll(() => prepareSandboxEngine(), 120_000);

afterAll(async () => {
  await Promise.all(drivers.map((d) => d.close()));
});

describe('reaper', () => {
  it('removes the container and mounted workspace of a host process killed mid-run', async () => {
    const input = testSandboxConfig('crash');
    const child = spawn(
      process.execPath,
      ['--import', join(REPO_ROOT, 'scripts/register-ts.js'), join(REPO_ROOT, 'test/sandbox/crash-child.ts'), JSON.stringify(input)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { PATH: process.env.PATH ?? '' },
      },
    );
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      child.on('exit', (code) => reject(new Error(`child exited ${code} before acquiring`)));
    });
    const { sandboxId } = JSON.parse(line) as { sandboxId: string };
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const mountPoint = join(input.workspaceRoot!, sandboxId, 'mnt');
    expect((await containersOf(input.instance!)).map((c) => c.State)).toEqual(['running']);
    expect(isMounted(mountPoint)).toBe(true);

    // A young leftover is kept (it may be another live process's run)…
    const patient = await open(input);
    expect(await patient.reap()).toEqual({ containers: 0, workspaces: 0 });
    expect(await containersOf(input.instance!)).toHaveLength(1);

    // …and removed, with its workspace, once past the wall clock and margin.
    const strict = await open({ ...input, limits: { ...input.limits, wallClockMs: 1 }, reapMarginMs: 0 });
    await strict.reap();
    expect(await containersOf(input.instance!)).toEqual([]);
    expect(isMounted(mountPoint)).toBe(false);
    expect(existsSync(join(input.workspaceRoot!, sandboxId))).toBe(false);
  }, 120_000);

  it('removes a workspace whose container is gone', async () => {
    const input = testSandboxConfig('orphan', { reapMarginMs: 0 });
    const orphan = await createWorkspace(input.workspaceRoot!, 'ab'.repeat(8), 16 * 1024 * 1024);
    expect(isMounted(orphan.mountPoint)).toBe(true);
    const driver = await open(input);
    expect(await driver.reap()).toEqual({ containers: 0, workspaces: 0 }); // already done at start-up
    expect(existsSync(orphan.dir)).toBe(false);
    expect(isMounted(orphan.mountPoint)).toBe(false);
  }, 60_000);

  it('never reaps what its own driver holds, whatever its age; other drivers do', async () => {
    const input = testSandboxConfig('held', { reapMarginMs: 0, poolSize: 1, limits: { wallClockMs: 1 } });
    const holder = await open(input);
    await holder.warmUp();
    expect(holder.pooledCount).toBe(1);
    expect(await holder.reap()).toEqual({ containers: 0, workspaces: 0 });
    expect(await containersOf(input.instance!)).toHaveLength(1);
    const other = await open({ ...input, poolSize: 0 }); // reaps at start-up
    expect(await other.reap()).toEqual({ containers: 0, workspaces: 0 });
    expect(await containersOf(input.instance!)).toEqual([]);
  }, 60_000);
});

describe('warm pool', () => {
  it('hands out pristine sandboxes once each, renamed for their run, and refills', async () => {
    const driver = await open(testSandboxConfig('pool', { poolSize: 1 }));
    await driver.warmUp();
    expect(driver.pooledCount).toBe(1);

    const first = (await driver.acquire('run-pool-1')) as Sandbox & { sandboxId: string };
    expect(first.runId).toBe('run-pool-1');
    const [container] = await docker.listContainers({ filters: { label: [`userz.sandbox-id=${first.sandboxId}`] } });
    expect(container!.Names[0]).toMatch(new RegExp(`^/userz-${first.sandboxId}-r\\d{13}-run-pool-1$`));
    // Pristine: nothing in the workspace, nothing run before.
    const ls = await first.exec(['node', '-e', 'console.log(JSON.stringify(require("fs").readdirSync("/work")))']);
    expect(ls.stdout.toString().trim()).toBe('[]');

    await driver.warmUp();
    expect(driver.pooledCount).toBe(1);
    await first.destroy();
    const second = (await driver.acquire('run-pool-2')) as Sandbox & { sandboxId: string };
    expect(second.sandboxId).not.toBe(first.sandboxId);
    await second.destroy();
    await expect(first.exec(['true'])).rejects.toMatchObject({ code: 'sandbox_destroyed' });
  }, 120_000);

  it('falls back to a cold start when the pool is empty', async () => {
    const driver = await open(testSandboxConfig('nopool', { poolSize: 0 }));
    const sandbox = await driver.acquire('run-cold');
    try {
      expect((await sandbox.exec(['true'])).exitCode).toBe(0);
      expect(driver.pooledCount).toBe(0);
    } finally {
      await sandbox.destroy();
    }
  }, 60_000);
});
