import { jest } from '@jest/globals';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptReport, createApp } from '../../src/intake/index.js';
import { TERMINAL_STATES } from '../../src/pipeline/index.js';
import { DockerRunscDriver } from '../../src/sandbox/index.js';
import { generateKeyringEntry, KeyringMasterKey, Vault } from '../../src/security/index.js';
import { getApp } from '../../src/store/apps.js';
import { listAudit, LocalBlobStore, upsertRepo, type Db } from '../../src/store/index.js';
import { testGitHubApp } from '../helpers/app.js';
import { openTestDb, TEST_DATABASE_URL, createTestOrg } from '../helpers/db.js';
import { prepareSandboxEngine, REPO_ROOT, testSandboxConfig } from '../sandbox/engine.js';
import { startFakeGitHub, startFakeOpenAI, type FakeServer, type RecordedRequest } from './fake-services.js';
import { APP_JS, BASE, repoTarGz, waitForSettledRun } from './scenario.js';

jest.setTimeout(600_000);

/** Container ids with this instance label. The docker CLI, not dockerode: nock intercepts dockerode's socket in this process. */
function containersOf(instance: string, all: boolean): string[] {
  const out = execFileSync('docker', ['ps', '-q', ...(all ? ['-a'] : []), '--filter', `label=userz.instance=${instance}`], { encoding: 'utf8' }).trim();
  return out === '' ? [] : out.split('\n');
}

/**
 * Kill the worker process (SIGKILL) at several points of a run; after a restart each run
 * reaches exactly one terminal state and at most one PR exists for it.
 */
describe('a worker killed with SIGKILL mid-run', () => {
  let db: Db & { schema?: string };
  let github: Awaited<ReturnType<typeof startFakeGitHub>>;
  let openai: FakeServer;
  let worker: ChildProcess | undefined;
  let workerOpts: string;
  let appId: string;
  let sandbox: ReturnType<typeof testSandboxConfig>;
  const instance = `durability-${process.pid}`;
  const blobDir = mkdtempSync(join(tmpdir(), 'userz-dur-blobs-'));

  const startWorkerProcess = async (): Promise<void> => {
    const child = spawn(process.execPath, ['--import', './scripts/register-ts.js', 'test/pipeline/worker-process.ts', workerOpts], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('worker did not start')), 60_000);
      child.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('worker ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
    });
    worker = child;
  };

  const killWorker = (): void => {
    worker?.kill('SIGKILL');
  };

  beforeAll(async () => {
    prepareSandboxEngine();
    db = await openTestDb('postgres');
    const gh = testGitHubApp();
    github = await startFakeGitHub({ base: BASE, archive: await repoTarGz({ 'src/total.js': APP_JS }) });
    openai = await startFakeOpenAI({ path: 'src/total.js', search: ' + 1;', replace: ';' });
    const keyring = generateKeyringEntry(1);
    const vault = new Vault(db, new KeyringMasterKey(keyring));
    const orgId = await createTestOrg(db, vault, 'acme');
    const repo = await upsertRepo(
      db,
      { orgId, forge: 'github', externalId: '777', fullName: 'acme/app', installationId: 99, baseUrl: `${github.url}/api/v3`, defaultBranch: 'main' },
      'test',
    );
    appId = (await createApp(db, vault, { orgId, name: 'Shop', origins: [], repoId: repo.id, actor: 'test' })).app.id;
    sandbox = testSandboxConfig('durability', { instance, limits: { wallClockMs: 120_000 } });
    workerOpts = JSON.stringify({
      dbUrl: TEST_DATABASE_URL,
      schema: db.schema,
      blobDir,
      keyring,
      openaiUrl: openai.url,
      github: { appId: gh.appId, privateKey: gh.privateKey },
      sandbox: { ...sandbox, docker: undefined },
    });
    await startWorkerProcess();
  });

  afterAll(async () => {
    killWorker();
    await github?.close();
    await openai?.close();
    await db?.close();
  });

  /** Runs one report through, killing the worker once where `killAt` says; returns its run. */
  async function runWithKill(killAt: { server: 'github' | 'openai'; when: (r: RecordedRequest) => boolean; afterAnswer?: boolean }) {
    let fired = false;
    let restart: Promise<void> | undefined;
    const server = killAt.server === 'github' ? github : openai;
    server.hook = (req) => {
      if (fired || !killAt.when(req)) return;
      fired = true;
      const kill = () => {
        const dying = worker!;
        killWorker();
        restart = new Promise<void>((r) => dying.once('exit', () => r())).then(startWorkerProcess);
      };
      return killAt.afterAnswer ? { after: kill } : { before: kill };
    };
    const app = (await getApp(db, appId))!;
    const { report } = await acceptReport(
      { db, blobs: new LocalBlobStore(blobDir) },
      { app, source: 'api', content: { text: 'The cart total is one too high.' }, replyTo: { kind: 'api' }, reporterKey: null, actor: 'test' },
    );
    const run = await waitForSettledRun(db, report.id, 240_000);
    expect(TERMINAL_STATES.has(run.state)).toBe(true);
    server.hook = undefined;
    expect(fired).toBe(true);
    await restart;
    const terminal = (await listAudit(db, { subject: run.id })).filter((e) => TERMINAL_STATES.has(e.action.replace('run.', '') as never));
    return { run, terminal, prs: github.pulls.filter((p) => p.head === `userz/${run.id}`) };
  }

  const expectOneDraft = (r: Awaited<ReturnType<typeof runWithKill>>) => {
    expect([r.run.state, r.run.stateReason]).toEqual(['pr_opened', null]);
    expect(r.terminal).toHaveLength(1);
    expect(r.prs).toHaveLength(1);
  };

  it('during triage (classifier call in flight)', async () => {
    expectOneDraft(await runWithKill({ server: 'openai', when: (r) => r.body?.response_format?.type === 'json_schema' }));
  });

  let sandboxesAtAgentKill = 0;
  it('during the agent run inside the sandbox', async () => {
    const counted = runWithKill({ server: 'openai', when: (r) => Array.isArray(r.body?.tools) && sandboxesAtAgentKill === 0 });
    // Count this instance's live sandboxes while the agent's first model call is in flight.
    const before = openai.hook;
    openai.hook = (req) => {
      const hooks = before?.(req);
      if (!hooks) return hooks;
      return {
        before: async () => {
          sandboxesAtAgentKill = containersOf(instance, false).length;
          await hooks.before?.();
        },
      };
    };
    expectOneDraft(await counted);
  });

  it('in the middle of delivery (tree written, no commit yet)', async () => {
    expectOneDraft(await runWithKill({ server: 'github', when: (r) => r.method === 'POST' && r.path.endsWith('/git/trees') }));
  });

  it('right after the draft PR was created, before the run recorded it', async () => {
    expectOneDraft(await runWithKill({ server: 'github', when: (r) => r.method === 'POST' && r.path.endsWith('/pulls'), afterAnswer: true }));
  });

  it('leaves no sandbox the reaper does not remove', async () => {
    // Same instance and workspace root as the workers, so their orphaned workspaces are found too.
    const reaper = await DockerRunscDriver.open({ ...sandbox, docker: undefined, limits: { ...sandbox.limits, wallClockMs: 1 }, reapMarginMs: 0 });
    try {
      // A worker was killed while its sandbox ran (counted at the kill, below); whatever the
      // restarted worker's start-up reap did not remove, this reap must.
      expect(sandboxesAtAgentKill).toBeGreaterThanOrEqual(1);
      await reaper.reap();
      const left = containersOf(instance, true);
      expect(execFileSync('mount', [], { encoding: 'utf8' })).not.toContain(sandbox.workspaceRoot!);
      // Only the live worker's current sandboxes may remain, and it is idle now.
      expect(left).toHaveLength(0);
    } finally {
      await reaper.close();
    }
  });
});
