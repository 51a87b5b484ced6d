/**
 * Setup's egress in the real sandbox (runsc, --network=none): through the proxy an allowed
 * name reaches a registry stand-in on the host's loopback (allowed explicitly here), a name
 * off the list is refused and logged, nothing else gets out (direct TCP, DNS, the proxy
 * variables unset), and once setup is over the socket is gone and nothing connects.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import pino from 'pino';
import { createSetupEgress } from '../../../src/pipeline/egress.js';
import { DockerRunscDriver, type Sandbox } from '../../../src/sandbox/index.js';
import { insertOrg, listEgressConnections, newId, type Db, type EgressConnection } from '../../../src/store/index.js';
import { openTestDb } from '../../helpers/db.js';
import { prepareSandboxEngine, testSandboxConfig } from '../engine.js';

// Runs inside the sandbox as uid 1000. `fetch <host> <port>`: a GET through HTTPS_PROXY's
// CONNECT tunnel when the variable is set, else straight to the host; `dns <host>`;
// `tcp <ip> <port>`; `unix <path>`. Prints one JSON line.
const CLIENT = String.raw`
const net = require('net');
const [mode, a, b] = process.argv.slice(1);
const out = (o) => { process.stdout.write(JSON.stringify(o) + '\n'); process.exit(0); };
setTimeout(() => out({ error: 'timeout' }), 8000).unref();
const fail = (e) => out({ error: e.code || e.message });
if (mode === 'dns') require('dns').lookup(a, (e, addr) => (e ? fail(e) : out({ address: addr })));
else if (mode === 'tcp') net.connect(Number(b), a).on('connect', () => out({ connected: true })).on('error', fail);
else if (mode === 'unix') net.connect(a).on('connect', () => out({ connected: true })).on('error', fail);
else if (mode === 'fetch') {
  const proxy = process.env.HTTPS_PROXY;
  const get = 'GET /pkg HTTP/1.1\r\nHost: ' + a + '\r\nConnection: close\r\n\r\n';
  let buf = '';
  if (!proxy) {
    net.connect(Number(b), a).on('connect', function () { this.write(get); }).on('data', (d) => (buf += d)).on('end', () => out({ direct: buf })).on('error', fail);
  } else {
    const u = new URL(proxy);
    const s = net.connect(Number(u.port), u.hostname);
    let tunnel = false;
    s.on('error', fail);
    s.on('data', (d) => {
      buf += d;
      if (!tunnel) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const status = buf.slice(0, buf.indexOf('\r\n'));
        if (!status.includes(' 200 ')) out({ proxyStatus: status });
        tunnel = true;
        buf = buf.slice(end + 4);
        s.write(get);
      }
    });
    s.on('end', () => out({ response: buf }));
    s.write('CONNECT ' + a + ':' + b + ' HTTP/1.1\r\nHost: ' + a + ':' + b + '\r\n\r\n');
  }
}
`;

let driver: DockerRunscDriver;
let sandbox: Sandbox;
let registry: Server;
let registryPort: number;
let forwarderPort = 0;
let ledger: EgressConnection[] = [];
let db: Db;
const seen: Record<string, unknown> = {};

const run = async (args: string[], env?: readonly string[]) => {
  const res = await sandbox.exec(['node', '-e', CLIENT, ...args], { env, timeoutMs: 20_000 });
  expect(res.stderr.toString()).toBe('');
  return JSON.parse(res.stdout.toString()) as Record<string, unknown>;
};

beforeAll(async () => {
  prepareSandboxEngine();
  registry = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ name: 'left-pad', path: req.url }));
  });
  await new Promise<void>((r) => registry.listen(0, '127.0.0.1', r));
  registryPort = (registry.address() as { port: number }).port;
  db = await openTestDb('pglite');
  const org = await insertOrg(db, 'acme', 'test');
  const appId = newId('app');
  const batchId = newId('bat');
  const runId = newId('run');
  await db.query('INSERT INTO apps (id, org_id, name, public_key) VALUES ($1, $2, $3, $4)', [appId, org.id, 'Shop', `pub_${appId}`]);
  await db.query(`INSERT INTO batches (id, app_id, fingerprint, open_until) VALUES ($1, $2, 'fp', now())`, [batchId, appId]);
  await db.query(`INSERT INTO runs (id, org_id, app_id, batch_id, state) VALUES ($1, $2, $3, $4, 'running')`, [runId, org.id, appId, batchId]);
  driver = await DockerRunscDriver.open(testSandboxConfig('egress', { runnerCommand: null }));
  sandbox = await driver.acquire(runId);
  const setupEgress = createSetupEgress({
    db,
    log: pino({ level: 'silent' }),
    // The operator's lists: the stand-in's name, and one the repository does not ask for.
    lists: { standin: ['registry.test'], other: ['elsewhere.test'] },
    proxy: {
      ports: [registryPort],
      allowLoopback: true,
      lookup: async (host) => (host === 'registry.test' || host === 'elsewhere.test' ? [{ address: '127.0.0.1', family: 4 }] : []),
    },
  });
  // One setup, as .userz.yml `egress.allow: [standin, pypi]` asks (pypi is not offered here):
  // every probe runs while the egress path is open.
  await setupEgress(sandbox, { orgId: org.id, runId, allow: ['standin', 'pypi'] }, async (env) => {
    forwarderPort = Number(new URL(env.find((e) => e.startsWith('HTTPS_PROXY='))!.slice('HTTPS_PROXY='.length)).port);
    seen.allowed = await run(['fetch', 'registry.test', String(registryPort)], env);
    seen.offList = await run(['fetch', 'elsewhere.test', String(registryPort)], env);
    seen.unset = await run(['fetch', 'registry.test', String(registryPort)]);
    seen.dns = await run(['dns', 'registry.test'], env);
    seen.tcpHost = await run(['tcp', '172.17.0.1', '2375'], env);
    seen.tcpPublic = await run(['tcp', '1.1.1.1', '443'], env);
    seen.socketDuring = existsSync(sandbox.egressSlot.hostSocket);
  });
  ledger = await listEgressConnections(db, org.id, runId);
}, 180_000);

afterAll(async () => {
  await driver?.close();
  await db?.close();
  await new Promise((r) => registry?.close(r));
});

describe('setup egress in the sandbox', () => {
  it('reaches an allowed name through the proxy and records it in the run ledger with its bytes', () => {
    expect(seen.socketDuring).toBe(true);
    expect(seen.allowed).toEqual({ response: expect.stringContaining('{"name":"left-pad","path":"/pkg"}') });
    expect(ledger[0]).toEqual(
      expect.objectContaining({
        host: 'registry.test',
        port: registryPort,
        address: '127.0.0.1',
        allowed: true,
        reason: 'allowed',
        bytesUp: expect.any(Number),
      }),
    );
    expect(ledger[0]!.bytesDown).toBeGreaterThan(40);
  });

  it('refuses and logs a name off the list', () => {
    expect(seen.offList).toEqual({ proxyStatus: 'HTTP/1.1 403 Forbidden' });
    expect(ledger[1]).toEqual(expect.objectContaining({ host: 'elsewhere.test', allowed: false, reason: 'not_on_allowlist', bytesUp: 0, bytesDown: 0 }));
    expect(ledger).toHaveLength(2);
  });

  it('gets nowhere without the proxy: no DNS, no direct TCP, nothing with the variables unset', () => {
    expect(seen.dns).toEqual({ error: expect.stringMatching(/^(EAI_AGAIN|ENOTFOUND)$/) });
    expect(seen.unset).toEqual({ error: expect.stringMatching(/^(EAI_AGAIN|ENOTFOUND)$/) });
    expect(seen.tcpHost).toEqual({ error: expect.stringMatching(/^(ENETUNREACH|EHOSTUNREACH|ECONNREFUSED)$/) });
    expect(seen.tcpPublic).toEqual({ error: expect.stringMatching(/^(ENETUNREACH|EHOSTUNREACH|ECONNREFUSED)$/) });
  });

  it('after setup the socket is gone and neither it nor the forwarder connects', async () => {
    expect(existsSync(sandbox.egressSlot.hostSocket)).toBe(false);
    expect(await run(['unix', sandbox.egressSlot.sandboxSocket])).toEqual({ error: 'ENOENT' });
    expect(forwarderPort).toBeGreaterThan(0);
    expect(await run(['tcp', '127.0.0.1', String(forwarderPort)])).toEqual({ error: 'ECONNREFUSED' });
    const proxyEnvAfter = [`HTTPS_PROXY=http://127.0.0.1:${forwarderPort}`];
    expect(await run(['fetch', 'registry.test', String(registryPort)], proxyEnvAfter)).toEqual({ error: 'ECONNREFUSED' });
  }, 60_000);
});
