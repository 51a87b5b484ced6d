import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareSandboxEngine } from '../sandbox/engine.js';

const BIN = fileURLToPath(new URL('../../bin/userz.js', import.meta.url));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/root' }, encoding: 'utf8', timeout: 120_000 });

describe('operator commands for sandbox hosts', () => {
  beforeAll(() => prepareSandboxEngine());

  it('userz doctor passes every check on a host with dockerd, runsc and the images', () => {
    const r = run('doctor', '--json');
    const checks = JSON.parse(r.stdout) as Array<{ name: string; ok: boolean; detail: string }>;
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.length).toBeGreaterThanOrEqual(4);
    expect(r.status).toBe(0);
  }, 120_000);

  it('userz sandbox run runs a command as a run would: workspace loaded, uid 1000, no network', () => {
    const dir = mkdtempSync(join(tmpdir(), 'userz-cli-ws-'));
    writeFileSync(join(dir, 'hello.txt'), 'hi from the host');
    const script =
      "const fs=require('fs');const net=require('net');const s=net.connect(5432,'127.0.0.1');s.on('connect',()=>{console.log('NET');process.exit(0)});s.on('error',()=>{console.log(fs.readFileSync('/work/hello.txt','utf8'),process.getuid())})";
    const r = run('sandbox', 'run', '--workspace', dir, '--', 'node', '-e', script);
    expect(r.stdout.trim()).toBe('hi from the host 1000');
    expect(r.stderr).toContain('exit code 0');
    expect(r.status).toBe(0);
  }, 120_000);

  it("userz sandbox run exits with the command's own exit code, as docker run does", () => {
    const r = run('sandbox', 'run', '--', 'sh', '-c', 'echo done; exit 42');
    expect(r.stdout).toBe('done\n');
    expect(r.stderr).toContain('exit code 42');
    expect(r.status).toBe(42);
  }, 120_000);

  it('userz sandbox run without a command is a usage error', () => {
    const r = run('sandbox', 'run');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^userz: give the command after --/);
  });
});
