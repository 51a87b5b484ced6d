/**
 * What a hostile agent inside a real runsc sandbox can reach: nothing on the network, no
 * credential of the host, no Docker socket, no privilege, no writable path but its own
 * capped workspace and /tmp.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect } from 'node:net';
import { createDockerClient } from '../../src/sandbox/docker-client.js';
import { DockerRunscDriver, type Sandbox } from '../../src/sandbox/index.js';
import { prepareSandboxEngine, testSandboxConfig } from './engine.js';

const MiB = 1024 * 1024;
const MARKER = 'userzSandboxMarker';
// Set before the driver exists, as a real worker process would have them.
const SECRETS = {
  GITHUB_TOKEN: `ghs_${MARKER}GitHub01`,
  GITLAB_TOKEN: `glpat-${MARKER}GitLab02`,
  OPENAI_API_KEY: `sk-${MARKER}OpenAI03`,
  ANTHROPIC_API_KEY: `sk-ant-${MARKER}Anthropic04`,
  USERZ_MASTER_KEY: `${MARKER}Master05`,
  USERZ_DATABASE_URL: `postgres://userz:${MARKER}Db06@127.0.0.1:5432/test`,
};

let driver: DockerRunscDriver;
let sandbox: Sandbox;

beforeAll(async () => {
  prepareSandboxEngine();
  Object.assign(process.env, SECRETS);
  driver = await DockerRunscDriver.open(testSandboxConfig('isolation', { limits: { tmpBytes: 16 * MiB, workspaceBytes: 64 * MiB } }));
  sandbox = await driver.acquire('run-isolation');
}, 120_000);

afterAll(async () => {
  for (const k of Object.keys(SECRETS)) delete process.env[k];
  await driver?.close();
});

/** Runs a Node program inside the sandbox and parses the JSON it prints. */
async function inside<T>(program: string, timeoutMs = 30_000): Promise<T> {
  const res = await sandbox.exec(['node', '-e', program], { timeoutMs });
  if (res.exitCode !== 0) throw new Error(`exit ${res.exitCode}: ${res.stderr.toString()}`);
  return JSON.parse(res.stdout.toString()) as T;
}

const canConnectFromHost = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.on('connect', () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  });

describe('network', () => {
  it('reaches neither host loopback services, the Docker bridge, the outside nor DNS', async () => {
    // Postgres really listens on the host, so a refusal inside means isolation, not absence.
    expect(await canConnectFromHost(5432)).toBe(true);
    const result = await inside<Record<string, string | string[]>>(String.raw`
      const net = require('net'), dns = require('dns'), os = require('os');
      const tryConnect = (host, port) => new Promise((resolve) => {
        const s = net.connect({ host, port, timeout: 3000 });
        s.on('connect', () => { s.destroy(); resolve('connected'); });
        s.on('timeout', () => { s.destroy(); resolve('timeout'); });
        s.on('error', (e) => resolve(e.code || 'error'));
      });
      (async () => {
        const lookup = await new Promise((r) => dns.lookup('github.com', (e) => r(e ? e.code : 'resolved')));
        console.log(JSON.stringify({
          interfaces: Object.keys(os.networkInterfaces()),
          postgres: await tryConnect('127.0.0.1', 5432),
          redis: await tryConnect('127.0.0.1', 6379),
          bridge: await tryConnect('172.17.0.1', 5432),
          outside: await tryConnect('1.1.1.1', 443),
          outsideDns: await tryConnect('8.8.8.8', 53),
          lookup,
        }));
      })();`);
    expect(result.interfaces).toEqual(['lo']);
    for (const key of ['postgres', 'redis', 'bridge', 'outside', 'outsideDns']) expect([key, result[key]]).not.toEqual([key, 'connected']);
    expect(result.lookup).not.toBe('resolved');
  }, 60_000);
});

describe('credentials', () => {
  it('shows no host token, AI key or USERZ_ variable in any environ, command line or file', async () => {
    const found = await inside<{ hits: string[]; userzVars: string[]; scanned: number }>(
      String.raw`
      const fs = require('fs');
      // Assembled here so this program's own command line does not contain it.
      const marker = ${JSON.stringify(MARKER.slice(0, 6))} + ${JSON.stringify(MARKER.slice(6))};
      const hits = [];
      let scanned = 0;
      const check = (path) => {
        try { const b = fs.readFileSync(path); scanned++; if (b.includes(marker)) hits.push(path); } catch (e) {}
      };
      for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
        check('/proc/' + pid + '/environ'); check('/proc/' + pid + '/cmdline');
      }
      const walk = (dir, depth) => {
        let names = [];
        try { names = fs.readdirSync(dir); } catch (e) { return; }
        for (const n of names) {
          const p = dir === '/' ? '/' + n : dir + '/' + n;
          if (['/proc', '/sys', '/dev', '/usr', '/lib', '/lib64', '/bin', '/sbin'].includes(p)) continue;
          let st; try { st = fs.lstatSync(p); } catch (e) { continue; }
          if (st.isDirectory() && depth < 12) walk(p, depth + 1);
          else if (st.isFile() && st.size < 4 * 1024 * 1024) check(p);
        }
      };
      walk('/', 0);
      const userzVars = Object.keys(process.env).filter((k) => /^USERZ_|TOKEN|API_KEY|SECRET/i.test(k));
      console.log(JSON.stringify({ hits, userzVars, scanned }));`,
      60_000,
    );
    expect(found.scanned).toBeGreaterThan(100);
    expect(found.hits).toEqual([]);
    expect(found.userzVars).toEqual([]);
    // A spawned process (the runner's path) gets the same clean environment.
    const proc = sandbox.spawn(['node', '-e', 'process.stdout.write(JSON.stringify(process.env))']);
    proc.stdin.end();
    const chunks: Buffer[] = [];
    proc.stdout.on('data', (c: Buffer) => chunks.push(c));
    expect(await proc.wait()).toBe(0);
    const env = Buffer.concat(chunks).toString();
    expect(env).not.toContain(MARKER);
    expect(Object.keys(JSON.parse(env) as object).sort()).toEqual(['HOME', 'HOSTNAME', 'LANG', 'PATH']);
  }, 90_000);
});

describe('privileges and file system', () => {
  it('runs as uid 1000 with no capabilities and no way to gain any', async () => {
    const status = (await sandbox.exec(['cat', '/proc/self/status'])).stdout.toString();
    expect(status).toMatch(/^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
    expect(status).toMatch(/^Gid:\s+1000\s+1000\s+1000\s+1000$/m);
    // gVisor's /proc shows no CapAmb or NoNewPrivs lines; the container config below covers those.
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd']) expect(status).toMatch(new RegExp(`^${set}:\\s+0{16}$`, 'm'));
  }, 30_000);

  it('is a runsc container with every limit and restriction of a run', async () => {
    const docker = createDockerClient();
    const [listed] = await docker.listContainers({ filters: { label: ['userz.run-id=run-isolation'] } });
    const info = await docker.getContainer(listed!.Id).inspect();
    const host = info.HostConfig;
    expect({
      runtime: host.Runtime,
      network: host.NetworkMode,
      capDrop: host.CapDrop,
      capAdd: host.CapAdd,
      securityOpt: host.SecurityOpt,
      readonly: host.ReadonlyRootfs,
      privileged: host.Privileged,
      pids: host.PidsLimit,
      nanoCpus: host.NanoCpus,
      memory: host.Memory,
      swap: host.MemorySwap,
      tmpfs: host.Tmpfs,
      user: info.Config.User,
      labels: Object.keys(info.Config.Labels).sort(),
    }).toEqual({
      runtime: 'runsc',
      network: 'none',
      capDrop: ['ALL'],
      capAdd: null,
      securityOpt: ['no-new-privileges'],
      readonly: true,
      privileged: false,
      pids: 1024,
      nanoCpus: 1e9,
      memory: 512 * MiB,
      swap: 512 * MiB,
      tmpfs: { '/tmp': `rw,nosuid,nodev,size=${16 * MiB},mode=1777` },
      // The container's own init and idle process; every exec runs as 1000 (test above).
      user: '65534:65534',
      labels: ['userz.created-at', 'userz.instance', 'userz.role', 'userz.run-id', 'userz.sandbox-id'],
    });
    // The workspace, and setup's egress slot: read-only, and empty outside setup (test/sandbox/egress/).
    const mounts = [...info.Mounts].sort((a, b) => a.Destination.localeCompare(b.Destination));
    expect(mounts).toEqual([
      expect.objectContaining({ Type: 'bind', Destination: '/run/userz-egress', RW: false }),
      expect.objectContaining({ Type: 'bind', Destination: '/work', RW: true }),
    ]);
    expect(mounts[0]!.Source).toMatch(/\/[0-9a-f]{16}\/egress$/);
    expect(mounts[1]!.Source).toMatch(/\/[0-9a-f]{16}\/mnt$/);
  }, 30_000);

  it('has no Docker socket and no host path but its own workspace', async () => {
    const found = await inside<{ sockets: string[]; dockerPaths: string[] }>(String.raw`
      const fs = require('fs');
      const sockets = [];
      const walk = (dir, depth) => {
        let names = [];
        try { names = fs.readdirSync(dir); } catch (e) { return; }
        for (const n of names) {
          const p = dir === '/' ? '/' + n : dir + '/' + n;
          if (p === '/proc' || p === '/sys') continue;
          let st; try { st = fs.lstatSync(p); } catch (e) { continue; }
          if (st.isSocket()) sockets.push(p);
          else if (st.isDirectory() && depth < 12) walk(p, depth + 1);
        }
      };
      walk('/', 0);
      const dockerPaths = ['/var/run/docker.sock', '/run/docker.sock', '/run/containerd/containerd.sock'].filter((p) => fs.existsSync(p));
      console.log(JSON.stringify({ sockets, dockerPaths }));`);
    expect(found).toEqual({ sockets: [], dockerPaths: [] });
    const mounts = (await sandbox.exec(['cat', '/proc/self/mounts'])).stdout.toString();
    expect(mounts).toMatch(/^\S+ \/ \S+ ro[, ]/m);
    expect(mounts).not.toMatch(/docker\.sock/);
  }, 60_000);

  it('refuses writes outside /work and /tmp', async () => {
    const result = await inside<Record<string, string>>(String.raw`
      const fs = require('fs');
      const attempt = (p) => { try { fs.writeFileSync(p, 'x'); return 'written'; } catch (e) { return e.code; } };
      console.log(JSON.stringify({
        varTmp: attempt('/var/tmp/escape'), etc: attempt('/etc/escape'), root: attempt('/escape'),
        opt: attempt('/opt/userz/runner.mjs'), work: attempt('/work/ok'), tmp: attempt('/tmp/ok'),
      }));`);
    expect(result).toEqual({
      varTmp: 'EROFS',
      etc: expect.stringMatching(/^E(ROFS|ACCES)$/),
      root: expect.stringMatching(/^E(ROFS|ACCES)$/),
      opt: expect.stringMatching(/^E(ROFS|ACCES)$/),
      work: 'written',
      tmp: 'written',
    });
  }, 30_000);

  it('fails writes past the workspace cap and the /tmp cap with ENOSPC', async () => {
    const result = await inside<Record<string, string>>(
      String.raw`
      const fs = require('fs');
      const fill = (path, mib) => {
        const chunk = Buffer.alloc(1024 * 1024, 1);
        const fd = fs.openSync(path, 'w');
        try { for (let i = 0; i < mib; i++) fs.writeSync(fd, chunk); return 'written'; } catch (e) { return e.code; } finally { fs.closeSync(fd); fs.unlinkSync(path); }
      };
      console.log(JSON.stringify({ work: fill('/work/fill.bin', 96), tmp: fill('/tmp/fill.bin', 32), workSmall: fill('/work/small.bin', 8) }));`,
      60_000,
    );
    expect(result).toEqual({ work: 'ENOSPC', tmp: 'ENOSPC', workSmall: 'written' });
  }, 90_000);
});
