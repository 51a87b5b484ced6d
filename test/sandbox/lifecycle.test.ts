/**
 * Lifecycle: what a crashed host process leaves is reaped, the reaper leaves live
 * sandboxes alone, and the warm pool hands out each pristine sandbox once.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROTOCOL_VERSION, RUNNER_READY_ENV } from '../../src/runner/index.js';
import { DockerRunscDriver, RUNNER_COMMAND, type Sandbox, type SandboxProcess } from '../../src/sandbox/index.js';
import { SANDBOX_ENV } from '../../src/sandbox/container-spec.js';
import { createDockerClient } from '../../src/sandbox/docker-client.js';
import { createWorkspace } from '../../src/sandbox/workspace.js';
import { REPO_ROOT, prepareSandboxEngine, testSandboxConfig } from './engine.js';
import { repositoryTar } from './tar-stream-repo.js';

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

/** The sandbox user's live processes (command line and environment), other than the lister. */
const LIST = String.raw`
const fs = require('fs');
const out = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid).flatMap((p) => {
  try {
    const s = fs.readFileSync('/proc/' + p + '/status', 'utf8');
    if (!/^Uid:\s+1000\s/m.test(s) || /^State:\s+Z/m.test(s)) return [];
    const split = (f) => fs.readFileSync('/proc/' + p + '/' + f, 'utf8').split('\0').filter(Boolean);
    return [{ cmd: split('cmdline').slice(0, 3).join(' ').slice(0, 200), env: split('environ') }];
  } catch (e) { return []; }
});
console.log(JSON.stringify(out));
`;

async function userProcesses(sandbox: Sandbox): Promise<{ cmd: string; env: string[] }[]> {
  const res = await sandbox.exec(['node', '-e', LIST]);
  expect(res.exitCode).toBe(0);
  return JSON.parse(res.stdout.toString()) as { cmd: string; env: string[] }[];
}

const task = (protocolVersion: number) => ({
  type: 'task',
  protocolVersion,
  system: 'Fix it.',
  prompt: 'The total is off by one.',
  tools: ['read_file'],
  maxTurns: 1,
});

async function firstLine(proc: SandboxProcess): Promise<unknown> {
  let text = '';
  for await (const chunk of proc.stdout) {
    text += (chunk as Buffer).toString('utf8');
    if (text.includes('\n')) break;
  }
  return JSON.parse(text.slice(0, text.indexOf('\n')));
}

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

  it('holds its loader and runner started and waiting, hands the runner out once, and the sweep still ends it', async () => {
    const pooled = await open(testSandboxConfig('prestart', { poolSize: 1 }));
    const cold = await open(testSandboxConfig('prestart-cold', { poolSize: 0 }));
    await pooled.warmUp();
    const sandbox = await pooled.acquire('run-prestart');
    const reference = await cold.acquire('run-prestart-cold');
    try {
      // Before the run sent anything: the runner, the loader and the loader's two shells
      // (unpack, commit) wait as uid 1000 with the fixed environment only.
      const runnerLine = RUNNER_COMMAND.join(' ');
      const waiting = await userProcesses(sandbox);
      const kinds = waiting.map((p) => (p.cmd === runnerLine ? 'runner' : /^node -e /.test(p.cmd) ? 'loader' : /^sh -c set -e/.test(p.cmd) ? 'shell' : p.cmd));
      expect(kinds.sort()).toEqual(['loader', 'runner', 'shell', 'shell']);
      const fixed = [...SANDBOX_ENV, 'HOSTNAME=sandbox'].sort();
      expect(waiting.find((p) => p.cmd === runnerLine)!.env.sort()).toEqual([...fixed, `${RUNNER_READY_ENV}=1`].sort());
      for (const loader of waiting.filter((p) => p.cmd !== runnerLine)) expect(loader.env.sort()).toEqual(fixed);

      // The pre-started loader commits exactly what a cold one commits, .git left out.
      const files = [
        { path: 'README.md', content: '# app\n' },
        { path: '.git/hooks/post-checkout', content: '#!/bin/sh\necho hooked > /work/hooked\n', mode: 0o755 },
        { path: 'src/a.js', content: 'export const a = 1;\n' },
      ];
      const { baseCommit } = await sandbox.loadRepository(repositoryTar('app-1', files));
      expect(await baseCommit).toBe(await (await reference.loadRepository(repositoryTar('app-1', files))).baseCommit);
      expect((await sandbox.exec(['test', '-e', '/work/.git/hooks/post-checkout'])).exitCode).not.toBe(0);
      expect((await userProcesses(sandbox)).map((p) => p.cmd)).toEqual([runnerLine]);

      // The runner handed out is the one waiting, and it still checks the protocol version.
      const first = sandbox.spawn([...RUNNER_COMMAND]);
      first.stdin.write(`${JSON.stringify(task(PROTOCOL_VERSION + 1))}\n`);
      expect(await firstLine(first)).toMatchObject({ type: 'failed', code: 'protocol_version_mismatch' });
      expect(await first.wait()).toBe(1);
      expect(await userProcesses(sandbox)).toEqual([]);

      // Once: the same argv again starts a new runner, which works.
      const second = sandbox.spawn([...RUNNER_COMMAND]);
      second.stdin.write(`${JSON.stringify(task(PROTOCOL_VERSION))}\n`);
      expect(await firstLine(second)).toMatchObject({ type: 'model_request' });
      expect((await userProcesses(sandbox)).map((p) => p.cmd)).toEqual([runnerLine]);
      // Still waiting on the model when the change set is read: the sweep ends it first.
      await sandbox.readChangeSet();
      expect(await userProcesses(sandbox)).toEqual([]);
      await expect(second.wait()).resolves.toBe(137);
    } finally {
      await sandbox.destroy();
      await reference.destroy();
    }
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
