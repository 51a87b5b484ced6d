/**
 * No process the agent's turn started outlives it: daemons started the ways a repository
 * can start them (an fsmonitor program git runs, a detached double fork, one in its own
 * session that ignores SIGTERM) are gone before the host reads the change set, so nothing
 * writes into the tree while it is read or after.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DockerRunscDriver, type Sandbox } from '../../src/sandbox/index.js';
import { prepareSandboxEngine, testSandboxConfig } from './engine.js';
import { repositoryTar } from './tar-stream-repo.js';

let driver: DockerRunscDriver;

beforeAll(async () => {
  prepareSandboxEngine();
  driver = await DockerRunscDriver.open(testSandboxConfig('agent-processes'));
}, 120_000);

afterAll(async () => {
  await driver?.close();
});

// Started by git as an fsmonitor: forks a counter that rewrites counter.txt forever, in its own session.
const FSMONITOR = [
  '#!/bin/sh',
  "setsid sh -c 'i=0; while :; do i=$((i+1)); echo $i > /work/counter.txt; sleep 0.01; done' </dev/null >/dev/null 2>&1 &",
  'exit 0',
].join('\n');

// A Node daemon that ignores SIGTERM and SIGHUP, detached twice over.
const NODE_DAEMON = String.raw`
const { spawn } = require('child_process');
const inner = "process.on('SIGTERM', () => {}); process.on('SIGHUP', () => {}); setInterval(() => require('fs').appendFileSync('/work/node-daemon.log', 'x'), 10);";
const outer = 'require("child_process").spawn(process.execPath, ["-e", ' + JSON.stringify(inner) + '], { detached: true, stdio: "ignore" }).unref();';
spawn(process.execPath, ['-e', outer], { detached: true, stdio: 'ignore' }).unref();
`;

/** Command lines of the sandbox user's live processes, other than the lister itself. */
const LIST = String.raw`
const fs = require('fs');
// A process can exit between listing /proc and reading its files: it is then not live, and is skipped.
const mine = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid).flatMap((p) => {
  try {
    const s = fs.readFileSync('/proc/' + p + '/status', 'utf8');
    if (!/^Uid:\s+1000\s/m.test(s) || /^State:\s+Z/m.test(s)) return [];
    return [fs.readFileSync('/proc/' + p + '/cmdline', 'utf8').split('\0').join(' ').trim()];
  } catch (e) { return []; }
});
console.log(JSON.stringify(mine));
`;

async function agentProcesses(sandbox: Sandbox): Promise<string[]> {
  const res = await sandbox.exec(['node', '-e', LIST]);
  expect(res.exitCode).toBe(0);
  return JSON.parse(res.stdout.toString()) as string[];
}

describe('processes left by the agent', () => {
  it('are all ended before the change set is read, whatever their session or signal handlers', async () => {
    const sandbox = await driver.acquire('run-agent-processes');
    try {
      await sandbox.loadRepository(
        repositoryTar('app-1', [
          { path: 'README.md', content: '# app\n' },
          { path: 'fsmon.sh', content: FSMONITOR, mode: 0o755 },
        ]),
      );
      // What a hostile repository gets to run during a turn: git's fsmonitor, and any program.
      expect((await sandbox.exec(['git', '-c', 'core.fsmonitor=/work/fsmon.sh', 'status'])).exitCode).toBe(0);
      expect((await sandbox.exec(['node', '-e', NODE_DAEMON])).exitCode).toBe(0);
      const before = await agentProcesses(sandbox);
      expect(before).toEqual(expect.arrayContaining([expect.stringContaining('counter.txt'), expect.stringContaining('SIGTERM')]));

      const changeSet = await sandbox.readChangeSet();

      expect(await agentProcesses(sandbox)).toEqual([]);
      // Nothing wrote after the read: what the host took is what the tree still holds.
      const counter = (await sandbox.exec(['cat', '/work/counter.txt'])).stdout.toString();
      expect(changeSet.entries.find((e) => e.path === 'counter.txt')?.content?.toString()).toBe(counter);
    } finally {
      await sandbox.destroy();
    }
  }, 120_000);

  it("leaves the sandbox usable: its own init is out of the agent user's reach", async () => {
    const sandbox = await driver.acquire('run-agent-processes-init');
    try {
      await sandbox.loadRepository(repositoryTar('app-1', [{ path: 'README.md', content: '# app\n' }]));
      const kill = await sandbox.exec(['node', '-e', "try { process.kill(1, 'SIGKILL'); console.log('sent'); } catch (e) { console.log(e.code); }"]);
      expect(kill.stdout.toString().trim()).toBe('EPERM');
      await sandbox.readChangeSet();
      expect((await sandbox.exec(['node', '-e', 'process.exit(0)'])).exitCode).toBe(0);
    } finally {
      await sandbox.destroy();
    }
  }, 120_000);
});
