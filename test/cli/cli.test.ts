import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/userz.js', import.meta.url));

function userz(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/root', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('userz CLI', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'userz-cli-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it.each(['start', 'migrate', 'init', 'keys rotate', 'keys generate', 'repos link-installation'])('prints help for `%s`', (cmd) => {
    const r = userz([...cmd.split(' '), '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`userz ${cmd}`);
  });

  it('exits 2 with one clear line on an unknown option or command', () => {
    const bad = userz(['init', '--nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/^userz: Unknown option '--nope'/);
    const unknown = userz(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^userz: unknown command "frobnicate"/);
  });

  it('names the bad environment variable and exits 1', () => {
    const r = userz(['migrate'], { USERZ_DATA_DIR: dataDir, PORT: 'x' });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/PORT/);
  });

  it('exits 1 with a clear error when Postgres is unreachable', () => {
    const r = userz(['migrate'], {
      DATABASE_URL: 'postgres://userz:pw-not-shown@127.0.0.1:1/userz',
      USERZ_MASTER_KEY: '1:' + Buffer.alloc(32, 7).toString('base64'),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^userz: Cannot connect to Postgres at postgres:\/\/127\.0\.0\.1:1\/userz/);
    expect(r.stderr).not.toContain('pw-not-shown');
  });

  it('refuses DATABASE_URL without a master key', () => {
    const r = userz(['migrate'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/USERZ_MASTER_KEY is required/);
  });

  it('initialises the embedded default once and prints the key once as JSON', () => {
    const first = userz(['init', '--json', '--name', 'acme'], { USERZ_DATA_DIR: dataDir });
    expect(first.code).toBe(0);
    const out = JSON.parse(first.stdout) as { orgId: string; apiKey: string };
    expect(out.apiKey).toMatch(/^sk_/);
    expect(existsSync(join(dataDir, 'master.keys'))).toBe(true);
    const second = userz(['init'], { USERZ_DATA_DIR: dataDir });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/already has an org/);
    expect(second.stdout).not.toContain('sk_');
  });

  it('runs commands through the running server that holds the embedded database', async () => {
    const env = { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/root', USERZ_DATA_DIR: dataDir, PORT: '0', USERZ_SANDBOX: 'off' };
    const server = spawn(process.execPath, [BIN, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let output = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`server did not start: ${output}`)), 45_000);
        server.stdout.on('data', (d: Buffer) => {
          output += d.toString();
          if (output.includes('Userz started')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      const url = JSON.parse(readFileSync(join(dataDir, 'server.json'), 'utf8')).url as string;
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const init = userz(['init', '--json'], env);
      expect(init.code).toBe(0);
      expect(JSON.parse(init.stdout).apiKey).toMatch(/^sk_/);
      const rotate = userz(['keys', 'rotate', '--json'], env);
      expect(rotate.code).toBe(0);
      expect(JSON.parse(rotate.stdout)).toEqual({ masterVersion: 2, rewrapped: 1 });
      expect(readFileSync(join(dataDir, 'master.keys'), 'utf8')).toMatch(/^2:/);
      expect(output).not.toContain(JSON.parse(init.stdout).apiKey);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
    } finally {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
    expect(existsSync(join(dataDir, 'server.json'))).toBe(false);
  }, 90_000);
});
