/**
 * The sandbox's restricted syscall surface is gVisor's own kernel (runsc's default; no
 * seccomp profile of ours, see README "Security"). This proves it from inside: a static C
 * probe (syscall-probe.c, compiled here on the host and only ever run in the sandbox)
 * tries the calls a container escape or a host-kernel attack starts with, and each must
 * be refused, while two control calls that a sandbox allows go through.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DockerRunscDriver, type Sandbox } from '../../src/sandbox/index.js';
import { prepareSandboxEngine, testSandboxConfig } from './engine.js';
import { repositoryTar } from './tar-stream-repo.js';

const SOURCE = fileURLToPath(new URL('./syscall-probe.c', import.meta.url));
let driver: DockerRunscDriver;
let sandbox: Sandbox;
let buildDir: string;
let probe: Buffer;

beforeAll(async () => {
  prepareSandboxEngine();
  buildDir = mkdtempSync(join(tmpdir(), 'userz-syscall-probe-'));
  // gcc and a static libc: `scripts/setup.sh --tests` installs them; a missing one fails here, loudly.
  execFileSync('gcc', ['-static', '-O1', '-Wall', '-o', join(buildDir, 'probe'), SOURCE], { stdio: ['ignore', 'ignore', 'inherit'] });
  probe = readFileSync(join(buildDir, 'probe'));
  driver = await DockerRunscDriver.open(testSandboxConfig('syscalls'));
  sandbox = await driver.acquire('run-syscalls');
  await sandbox.loadRepository(repositoryTar('app-1', [{ path: 'README.md', content: '# app\n' }]));
}, 180_000);

afterAll(async () => {
  await driver?.close();
  if (buildDir) rmSync(buildDir, { recursive: true, force: true });
});

/** errno names that mean "not permitted here" (not "permitted, but bad arguments"). */
const REFUSALS = ['EPERM', 'EACCES', 'ENOSYS', 'ENODEV', 'EOPNOTSUPP', 'EAFNOSUPPORT', 'EPROTONOSUPPORT', 'ESOCKTNOSUPPORT'];

const DANGEROUS = [
  'ptrace_init', // the sandbox's own init, another user's process
  'ptrace_sibling', // a process of the same user that is not the caller's child
  'bpf',
  'perf_event_open',
  'kexec_load',
  'init_module',
  'mount',
  'keyctl',
  'add_key',
  'raw_socket_inet',
  'raw_socket_inet6',
  'packet_socket',
];

describe('syscalls inside the sandbox', () => {
  it('refuses every call a container escape starts with; the controls go through', async () => {
    await sandbox.exec(['sh', '-c', 'cat > /work/.syscall-probe && chmod 700 /work/.syscall-probe'], { stdin: probe });
    // The sibling: a child of sh, not of the probe; the probe gets its pid.
    const res = await sandbox.exec(['sh', '-c', 'sleep 300 & /work/.syscall-probe $!; status=$?; kill $!; exit $status'], { timeoutMs: 60_000 });
    expect({ exitCode: res.exitCode, stderr: res.stderr.toString() }).toEqual({ exitCode: 0, stderr: '' });
    const results = Object.fromEntries(
      res.stdout
        .toString()
        .trim()
        .split('\n')
        .map((line) => line.split(' ') as [string, string]),
    );
    expect(Object.keys(results).sort()).toEqual([...DANGEROUS, 'control_ptrace_child', 'control_unix_socket'].sort());
    for (const call of DANGEROUS) expect([call, REFUSALS.includes(results[call]!) ? 'refused' : results[call]]).toEqual([call, 'refused']);
    expect([results.control_unix_socket, results.control_ptrace_child]).toEqual(['ALLOWED', 'ALLOWED']);
  }, 120_000);
});
