// Benign reports of one App joining its open batch at the same time on Postgres: each join
// locks only that batch and grows its stored summary, so the count and the summary come out
// as if every member had been re-read, and a batch whose run started is not joined.
import { acceptReport } from '../../src/intake/index.js';
import { ScriptedModelClient } from '../../src/model/index.js';
import { claimJobs, triageReport, type PipelineDeps } from '../../src/pipeline/index.js';
import { insertRun, insertTriagedRun, transitionRun } from '../../src/pipeline/runs.js';
import { getApp, type App } from '../../src/store/apps.js';
import { ReportContent, summarizeBatch } from '../../src/triage/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { setUpCustomer } from './scenario.js';

const benign = () => ({ content: JSON.stringify({ label: 'benign', confidence: 0.9, reason: 'bug' }) });

describe('joining an open batch on Postgres', () => {
  let app: TestApp;
  let product: App;
  let deps: PipelineDeps;
  beforeEach(async () => {
    app = await startTestApp({ db: 'postgres' });
    const { appId } = await setUpCustomer(app);
    product = (await getApp(app.deps.store.db, appId))!;
    deps = { ...app.deps.pipeline, classifier: new ScriptedModelClient(Array.from({ length: 40 }, benign)), batchDelayMs: 60_000 };
  }, 120_000);
  afterEach(async () => app.close());

  async function accept(line: string, text = 'Cart crashes'): Promise<string> {
    const { report } = await acceptReport(
      { db: app.deps.store.db, blobs: app.deps.store.blobs },
      {
        app: product,
        source: 'widget',
        content: { text, console: [{ level: 'error', message: line }] },
        replyTo: { kind: 'widget' },
        reporterKey: null,
        actor: 'test',
      },
    );
    return report.id;
  }

  async function batchOf(reportId: string): Promise<string> {
    const [row] = await app.deps.store.db.query<{ batch_id: string }>('SELECT batch_id FROM reports WHERE id = $1', [reportId]);
    return row!.batch_id;
  }

  it('counts and summarises 25 concurrent joins as a full recount would', async () => {
    const first = await accept('TypeError: x is undefined at cart.js:1:1', 'Cart crashes when <b>paying</b>');
    await triageReport(deps, first);
    const batchId = await batchOf(first);
    const others: string[] = [];
    for (let i = 0; i < 25; i++) others.push(await accept(`TypeError: x is undefined at cart.js:${i + 2}:${i}`, `Report ${i}`));
    await Promise.all(others.map((id) => triageReport(deps, id)));

    const db = app.deps.store.db;
    const members = await db.query<{ id: string; content: unknown; created_at: Date }>('SELECT id, content, created_at FROM reports WHERE batch_id = $1', [
      batchId,
    ]);
    expect(members.map((m) => m.id).sort()).toEqual([first, ...others].sort());
    const [batch] = await db.query<{ report_count: number; summary: string }>('SELECT report_count, summary FROM batches WHERE id = $1', [batchId]);
    const full = summarizeBatch(members.map((m) => ({ content: ReportContent.parse(m.content), receivedAt: new Date(m.created_at) })));
    expect(batch).toEqual({ report_count: 26, summary: full.text });
    expect(await db.query("SELECT 1 FROM runs WHERE state = 'triaged'")).toHaveLength(1);
    expect(await db.query("SELECT 1 FROM audit_events WHERE action = 'batch.join' AND subject = $1", [batchId])).toHaveLength(25);
  });

  it('starts a new batch for another error, and once the run has closed the batch', async () => {
    const first = await accept('TypeError: x is undefined at cart.js:1:1');
    await triageReport(deps, first);
    const other = await accept('RangeError: bad size at grid.js:4:2');
    await triageReport(deps, other);
    expect(await batchOf(other)).not.toBe(await batchOf(first));

    // What a run does when it starts: its batch takes no more reports.
    await app.deps.store.db.query('UPDATE batches SET open_until = now() WHERE id = $1', [await batchOf(first)]);
    const late = await accept('TypeError: x is undefined at cart.js:9:9');
    await triageReport(deps, late);
    expect(await batchOf(late)).not.toBe(await batchOf(first));
    const [closed] = await app.deps.store.db.query<{ report_count: number }>('SELECT report_count FROM batches WHERE id = $1', [await batchOf(first)]);
    expect(closed!.report_count).toBe(1);
  });

  async function jobState(reportId: string) {
    const [row] = await app.deps.store.db.query<{ done: boolean; status: string; batched: boolean }>(
      `SELECT j.done_at IS NOT NULL AS done, r.status, r.batch_id IS NOT NULL AS batched FROM jobs j JOIN reports r ON j.key = 'triage:' || r.id WHERE r.id = $1`,
      [reportId],
    );
    return row;
  }

  it('closes the triage job in the transaction that triages its report, and leaves both open when it fails', async () => {
    const db = app.deps.store.db;
    const failing = await accept('TypeError: x is undefined at cart.js:1:1');
    const [job] = await claimJobs(db, { workerId: 'w1', kinds: ['triage'], limit: 1, leaseMs: 60_000 });
    // A real failure inside the transaction, after the report row and the job were updated.
    await db.query('ALTER TABLE runs ADD CONSTRAINT refuse_runs CHECK (false) NOT VALID');
    await expect(triageReport(deps, failing, { jobId: job!.id })).rejects.toThrow();
    expect(await jobState(failing)).toEqual({ done: false, status: 'received', batched: false });

    await db.query('ALTER TABLE runs DROP CONSTRAINT refuse_runs');
    await triageReport(deps, failing, { jobId: job!.id });
    expect(await jobState(failing)).toEqual({ done: true, status: 'triaged', batched: true });
    expect(await db.query("SELECT 1 FROM audit_events WHERE action = 'report.triaged' AND subject = $1", [failing])).toHaveLength(1);
  });

  it.each(['triaged', 'needs_review', 'rejected'] as const)('creates a run straight into %s as insertRun then transitionRun would', async (to) => {
    const db = app.deps.store.db;
    const [stepped, direct] = ['bat_stepped', 'bat_direct'];
    for (const id of [stepped, direct]) {
      await db.query(`INSERT INTO batches (id, app_id, fingerprint, summary, report_count, open_until) VALUES ($1, $2, 'fp', 's', 1, now())`, [id, product.id]);
    }
    const input = { orgId: product.orgId, appId: product.id, repoId: null };
    const ids = await db.transaction(async (tx) => {
      const run = await insertRun(tx, { ...input, batchId: stepped, state: 'queued' });
      await transitionRun(tx, run.id, 'queued', to, { reason: 'why' });
      return [run.id, await insertTriagedRun(tx, { ...input, batchId: direct }, to, 'why')];
    });
    const shape = async (runId: string) => {
      const [run] = await db.query<Record<string, unknown>>(
        `SELECT state, state_reason, repo_id, started_at, finished_at IS NOT NULL AS finished, updated_at = created_at AS untouched FROM runs WHERE id = $1`,
        [runId],
      );
      const audit = await db.query<{ action: string; data: Record<string, unknown> }>('SELECT action, data FROM audit_events WHERE subject = $1 ORDER BY id', [
        runId,
      ]);
      return { run, audit: audit.map((a) => ({ action: a.action, data: { ...a.data, batchId: a.data.batchId ? 'batch' : undefined } })) };
    };
    expect(await shape(ids[1]!)).toEqual(await shape(ids[0]!));
    expect((await shape(ids[1]!)).audit.map((a) => a.action)).toEqual(['run.queued', `run.${to}`]);
  });
});
