/**
 * Issue 18: repository setup installs a real dependency with npm, from a registry
 * stand-in, through setup's egress proxy, while a host off the allowlist is refused and
 * logged; then the host's checks prove the dependency is there and the draft opens.
 *
 * Everything of ours is real: the pipeline, the runsc sandbox (--network=none), the proxy
 * and forwarder, the ledger in Postgres, npm in the sandbox image. The registry stand-in is
 * an HTTPS server on this host's loopback with a CA made at test time (the CA's pem is in
 * the fixture repository, as a repository with a private registry would carry it). It is
 * reached by made-up names that the proxy's resolver maps to 127.0.0.1, with loopback
 * allowed for this test only. nock stands in for GitHub and nothing else.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { createSetupEgress, type SetupEgress } from '../../src/pipeline/egress.js';
import { startWorker, type Worker } from '../../src/pipeline/index.js';
import { DockerRunscDriver, type SandboxDriver } from '../../src/sandbox/index.js';
import { getRunChecks, listEgressConnections } from '../../src/store/index.js';
import { startTestApp, testGitHubApp, type TestApp } from '../helpers/app.js';
import { prepareSandboxEngine, testSandboxConfig } from '../sandbox/engine.js';
import {
  APP_JS,
  APP_JS_FIXED,
  benignClassifier,
  editingAgent,
  expectArchiveAndPolicy,
  expectDraftPr,
  expectTokenMintAndRevoke,
  postWidgetReport,
  runOfReport,
  setUpCustomer,
  waitFor,
  waitForSettledRun,
} from './scenario.js';

jest.setTimeout(300_000);

const MiB = 1024 * 1024;
// Made-up names under a reserved test domain: no real registry is named anywhere.
const REGISTRY_HOST = 'registry.userz.test';
const REFUSED_HOST = 'mirror.userz.test';
const GREETING = 'installed through the egress proxy';

let work: string;
let registry: Server;
let port: number;
let tarball: Buffer;
let caPem: string;
const registrySaw: string[] = [];

/** A CA and a server certificate for REGISTRY_HOST signed by it, with the openssl CLI. */
function makeCertificates(dir: string): void {
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Userz test registry CA']);
  openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${REGISTRY_HOST}`]);
  writeFileSync(join(dir, 'server.ext'), `subjectAltName=DNS:${REGISTRY_HOST}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
  openssl([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    'server.ext',
  ]);
}

/** tiny-dep@1.0.0 as npm publishes it: a gzipped tar of package/. */
function packTinyDep(dir: string): Buffer {
  const pkg = join(dir, 'pkg', 'package');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'tiny-dep', version: '1.0.0', main: 'index.js' }));
  writeFileSync(join(pkg, 'index.js'), `module.exports = { greeting: ${JSON.stringify(GREETING)} };\n`);
  const out = join(dir, 'tiny-dep-1.0.0.tgz');
  execFileSync('tar', ['-czf', out, '--owner=0', '--group=0', '--numeric-owner', '-C', join(dir, 'pkg'), 'package']);
  return readFileSync(out);
}

const registryUrl = (host: string) => `https://${host}:${port}/`;
const tarballUrl = () => `${registryUrl(REGISTRY_HOST)}tiny-dep/-/tiny-dep-1.0.0.tgz`;
const integrity = () => `sha512-${createHash('sha512').update(tarball).digest('base64')}`;

const TEST_JS = [
  "import test from 'node:test';",
  "import assert from 'node:assert';",
  "import dep from 'tiny-dep';",
  "import { total } from '../src/total.js';",
  `test('the registry dependency is installed', () => assert.equal(dep.greeting, ${JSON.stringify(GREETING)}));`,
  "test('total is the sum of the prices', () => assert.equal(total([{ price: 2 }, { price: 3 }]), 5));",
  '',
].join('\n');

const npmFlags = (host: string) => `--registry=${registryUrl(host)} --cafile=certs/registry-ca.pem --fetch-retries=0`;
const installCommand = () => `npm ci ${npmFlags(REGISTRY_HOST)}`;
// Setup passes only when this fails: the name is on an operator list the repository did not ask for.
const refusedCommand = () => `! npm view tiny-dep version ${npmFlags(REFUSED_HOST)}`;
const policyText = () =>
  ['setup:', `  - ${installCommand()}`, `  - ${JSON.stringify(refusedCommand())}`, 'check:', '  - node --test test/', 'egress:', '  allow: [standin]', ''].join(
    '\n',
  );

// tiny-dep is a devDependency, as a test runner would be: setup's `npm ci` must install
// devDependencies (the sandbox sets no NODE_ENV=production) or the check cannot run.
function fixtureFiles(): Record<string, string> {
  return {
    'package.json': JSON.stringify({ name: 'shop', version: '1.0.0', type: 'module', devDependencies: { 'tiny-dep': '1.0.0' } }, null, 2) + '\n',
    'package-lock.json':
      JSON.stringify(
        {
          name: 'shop',
          version: '1.0.0',
          lockfileVersion: 3,
          requires: true,
          packages: {
            '': { name: 'shop', version: '1.0.0', devDependencies: { 'tiny-dep': '1.0.0' } },
            'node_modules/tiny-dep': { version: '1.0.0', resolved: tarballUrl(), integrity: integrity(), dev: true },
          },
        },
        null,
        2,
      ) + '\n',
    // npm's own chatter (update check, audit, funding) would be more registry traffic.
    '.npmrc': 'update-notifier=false\naudit=false\nfund=false\n',
    '.gitignore': 'node_modules/\n',
    'certs/registry-ca.pem': caPem,
    'src/total.js': APP_JS,
    'test/total.test.js': TEST_JS,
    '.userz.yml': policyText(),
  };
}

beforeAll(async () => {
  prepareSandboxEngine();
  work = mkdtempSync(join(tmpdir(), 'userz-npm-registry-'));
  makeCertificates(work);
  caPem = readFileSync(join(work, 'ca.pem'), 'utf8');
  tarball = packTinyDep(work);
  registry = createServer({ key: readFileSync(join(work, 'server.key')), cert: readFileSync(join(work, 'server.pem')) }, (req, res) => {
    registrySaw.push(`${req.method} ${req.headers.host} ${req.url}`);
    if (req.method === 'GET' && req.url === '/tiny-dep') {
      const shasum = createHash('sha1').update(tarball).digest('hex');
      const version = { name: 'tiny-dep', version: '1.0.0', main: 'index.js', dist: { tarball: tarballUrl(), integrity: integrity(), shasum } };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ name: 'tiny-dep', 'dist-tags': { latest: '1.0.0' }, versions: { '1.0.0': version } }));
    } else if (req.method === 'GET' && req.url === '/tiny-dep/-/tiny-dep-1.0.0.tgz') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(tarball.length) });
      res.end(tarball);
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"not found"}');
    }
  });
  await new Promise<void>((r) => registry.listen(0, '127.0.0.1', r));
  port = (registry.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise((r) => registry?.close(r));
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('setup installs a dependency through the egress proxy in the real sandbox', () => {
  let sandbox: SandboxDriver;
  beforeAll(async () => {
    // npm keeps its cache under HOME (/tmp); the default test tmpfs is small.
    sandbox = await DockerRunscDriver.open(testSandboxConfig('e2e-setup-npm', { limits: { tmpBytes: 128 * MiB, wallClockMs: 240_000 } }));
  });
  afterAll(async () => sandbox?.close());
  afterEach(() => nock.cleanAll());

  it('installs tiny-dep from the stand-in, refuses and logs the host off the list, and opens a draft whose checks passed', async () => {
    // The app (and so its database) exists only once startTestApp has the pipeline deps.
    const started: { app?: TestApp } = {};
    const seen = { socketDuringSetup: false, socketAfterSetup: true, connectAfterSetup: '' };
    // The real setup egress (pipeline/egress.ts) with this test's resolver, port and
    // loopback; around it, only observation: the socket while setup runs and once it ended.
    const setupEgress: SetupEgress = async (sb, request, fn) => {
      const real = createSetupEgress({
        db: started.app!.deps.store.db,
        log: started.app!.deps.log,
        lists: { standin: [REGISTRY_HOST], mirror: [REFUSED_HOST] },
        proxy: {
          ports: [port],
          allowLoopback: true,
          lookup: async (host) => (host.endsWith('.userz.test') ? [{ address: '127.0.0.1', family: 4 }] : []),
        },
      });
      const result = await real(sb, request, (env) => {
        seen.socketDuringSetup = existsSync(sb.egressSlot.hostSocket);
        return fn(env);
      });
      seen.socketAfterSetup = existsSync(sb.egressSlot.hostSocket);
      const probe = await sb.exec(
        [
          'node',
          '-e',
          "require('net').connect(process.argv[1]).on('connect', () => console.log('connected')).on('error', (e) => console.log(e.code))",
          sb.egressSlot.sandboxSocket,
        ],
        { timeoutMs: 30_000 },
      );
      seen.connectAfterSetup = probe.stdout.toString().trim();
      return result;
    };

    const agent = editingAgent([{ path: 'src/total.js', search: ' + 1;', replace: ';' }]);
    const app = (started.app = await startTestApp({
      db: 'postgres',
      github: testGitHubApp(),
      pipeline: { classifier: benignClassifier(), agent, sandbox, batchDelayMs: 0, setupEgress },
    }));
    const worker: Worker = startWorker(app.deps.pipeline, { pollMs: 50 });
    try {
      const customer = await setUpCustomer(app);
      let runId = '';
      expectTokenMintAndRevoke();
      await expectArchiveAndPolicy(fixtureFiles(), policyText());
      const { prBodies } = expectDraftPr(() => runId, { path: 'src/total.js', content: APP_JS_FIXED });
      const { id } = await postWidgetReport(app.url, customer.publicKey, { text: 'The cart total is one more than the prices add up to.' });
      await waitFor(async () => {
        const found = await runOfReport(app.deps.store.db, id);
        if (found) runId = found.id;
        return found;
      });
      const run = await waitForSettledRun(app.deps.store.db, id, 240_000);
      const checks = await getRunChecks(app.deps.store.db, run.id);
      expect(checks?.setup.map((c) => [c.command, c.exitCode, c.timedOut])).toEqual([
        [installCommand(), 0, false],
        [refusedCommand(), 0, false],
      ]);
      expect([run.state, run.stateReason]).toEqual(['pr_opened', null]);
      expect(nock.pendingMocks()).toEqual([]);

      // The checks (no network) ran the test that imports tiny-dep, and passed.
      expect(checks).toMatchObject({ status: 'passed', commands: [{ command: 'node --test test/', exitCode: 0 }] });
      expect(checks!.commands[0]!.outputTail).toMatch(/# pass 2\b/);
      expect(prBodies[0]).toContain('**Checks:** passed.');

      // The stand-in served the lock file's tarball, to the allowed name only.
      expect(registrySaw).toContain(`GET ${REGISTRY_HOST}:${port} /tiny-dep/-/tiny-dep-1.0.0.tgz`);
      expect(registrySaw.every((r) => r.startsWith(`GET ${REGISTRY_HOST}:${port} `))).toBe(true);

      // The ledger: every tunnel to the stand-in allowed, with the tarball's bytes coming back;
      // the name off the repository's list refused before any byte, and nothing else tried.
      const ledger = await listEgressConnections(app.deps.store.db, customer.orgId, run.id);
      const allowed = ledger.filter((e) => e.host === REGISTRY_HOST);
      const refused = ledger.filter((e) => e.host === REFUSED_HOST);
      expect(allowed.length + refused.length).toBe(ledger.length);
      expect(allowed.length).toBeGreaterThan(0);
      for (const e of allowed) expect(e).toMatchObject({ port, address: '127.0.0.1', allowed: true, reason: 'allowed' });
      expect(allowed.reduce((n, e) => n + e.bytesDown, 0)).toBeGreaterThan(tarball.length);
      expect(allowed.reduce((n, e) => n + e.bytesUp, 0)).toBeGreaterThan(0);
      expect(refused.length).toBeGreaterThan(0);
      for (const e of refused) expect(e).toMatchObject({ port, address: null, allowed: false, reason: 'not_on_allowlist', bytesUp: 0, bytesDown: 0 });

      // The path out existed while setup ran and was gone before the agent's first turn.
      expect(seen).toEqual({ socketDuringSetup: true, socketAfterSetup: false, connectAfterSetup: 'ENOENT' });
      expect(agent.requests.length).toBeGreaterThan(0);
    } finally {
      await worker.stop();
      await app.close();
    }
  });
});
