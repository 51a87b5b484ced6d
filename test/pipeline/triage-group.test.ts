// Triage in groups (pipeline/triage-group.ts): the reports of many jobs are written in one
// transaction and come out as they would one at a time; a report that fails in a group
// fails alone; batches follow the reports' received times, so a backlog and a report
// triaged after a newer one still batch.
import { acceptReport } from '../../src/intake/index.js';
import type { ModelClient, ModelResponse } from '../../src/model/index.js';
import { claimJobs, triageReport, type PipelineDeps } from '../../src/pipeline/index.js';
import { TriageGroups } from '../../src/pipeline/triage-group.js';
import { getApp, type App } from '../../src/store/apps.js';
import type { Db, Queryable } from '../../src/store/index.js';
import { ReportContent, summarizeBatch } from '../../src/triage/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { setUpCustomer } from './scenario.js';

/** Answers `spam` for reports that mention pills, `benign` for the rest. */
const classifier: ModelClient = {
  provider: 'scripted',
  model: 'by-content',
  complete: async (request): Promise<ModelResponse> => ({
    content: JSON.stringify(
      JSON.stringify(request).includes('cheap pills')
        ? { label: 'spam', confidence: 0.99, reason: 'An advert.' }
        : { label: 'benign', confidence: 0.9, reason: 'A bug report.' },
    ),
    toolCalls: [],
    usage: { inputTokens: 10, outputTokens: 10 },
    stopReason: 'end',
  }),
};

describe.each(['postgres', 'pglite'] as const)('triage in groups on %s', (backend) => {
  let app: TestApp;
  let product: App;
  let deps: PipelineDeps;
  let db: Db;
  beforeEach(async () => {
    app = await startTestApp({ db: backend });
    const { appId } = await setUpCustomer(app);
    db = app.deps.store.db;
    product = (await getApp(db, appId))!;
    deps = { ...app.deps.pipeline, classifier, batchDelayMs: 60_000 };
  }, 120_000);
  afterEach(async () => app.close());

  async function accept(text: string, line?: string): Promise<string> {
    const { report } = await acceptReport(
      { db, blobs: app.deps.store.blobs },
      {
        app: product,
        source: 'widget',
        content: line ? { text, console: [{ level: 'error', message: line }] } : { text },
        replyTo: { kind: 'widget' },
        reporterKey: null,
        actor: 'test',
      },
    );
    return report.id;
  }

  const batchOf = async (reportId: string) =>
    (await db.query<{ batch_id: string | null }>('SELECT batch_id FROM reports WHERE id = $1', [reportId]))[0]!.batch_id;

  async function expectFullSummary(batchId: string, count: number): Promise<void> {
    const members = await db.query<{ content: unknown; created_at: Date }>('SELECT content, created_at FROM reports WHERE batch_id = $1', [batchId]);
    const [batch] = await db.query<{ report_count: number; summary: string }>('SELECT report_count, summary FROM batches WHERE id = $1', [batchId]);
    const full = summarizeBatch(members.map((m) => ({ content: ReportContent.parse(m.content), receivedAt: new Date(m.created_at) })));
    expect(batch).toEqual({ report_count: count, summary: full.text });
  }

  /** Counts transactions; `failWhen` makes a statement of one fail (as a constraint or a deadlock would). */
  function watched(failWhen?: (sql: string, params: unknown[]) => boolean): { deps: PipelineDeps; transactions: () => number } {
    let n = 0;
    const wrapTx = (tx: Queryable): Queryable => ({
      query: (sql, params = []) => (failWhen?.(sql, params) ? Promise.reject(new Error('planted failure')) : tx.query(sql, params)),
    });
    const wrapped: Db = Object.assign(Object.create(db) as Db, {
      transaction: <T>(fn: (tx: Queryable) => Promise<T>) => {
        n++;
        return db.transaction((tx) => fn(wrapTx(tx)));
      },
    });
    return { deps: { ...deps, db: wrapped }, transactions: () => n };
  }

  it('writes many reports in fewer transactions, with what one at a time leaves', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push(await accept(`Cart crashes ${i}`, `TypeError: x is undefined at cart.js:${i + 1}:1`));
    for (let i = 0; i < 3; i++) ids.push(await accept(`Grid broken ${i}`, `RangeError: bad size at grid.js:${i + 1}:2`));
    ids.push(await accept('Buy cheap pills at example.com today'));
    const jobs = await claimJobs(db, { workerId: 'w', kinds: ['triage'], limit: 100, leaseMs: 60_000 });
    expect(jobs).toHaveLength(ids.length);
    const w = watched();
    const groups = new TriageGroups(w.deps);
    await Promise.all(jobs.map((j) => groups.triage(String(j.payload.reportId), j.id)));
    expect(w.transactions()).toBeLessThan(ids.length);

    const cart = await batchOf(ids[0]!);
    const grid = await batchOf(ids[8]!);
    for (const id of ids.slice(0, 8)) expect(await batchOf(id)).toBe(cart);
    for (const id of ids.slice(8, 11)) expect(await batchOf(id)).toBe(grid);
    expect(new Set([cart, grid, await batchOf(ids[11]!)]).size).toBe(3);
    await expectFullSummary(cart!, 8);
    await expectFullSummary(grid!, 3);
    const states = await db.query<{ state: string; n: number }>('SELECT state, count(*)::int AS n FROM runs GROUP BY state ORDER BY state');
    expect(states).toEqual([
      { state: 'rejected', n: 1 },
      { state: 'triaged', n: 2 },
    ]);
    const statuses = await db.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM reports GROUP BY status ORDER BY status');
    expect(statuses).toEqual([
      { status: 'rejected', n: 1 },
      { status: 'triaged', n: 11 },
    ]);
    const triaged = await db.query<{ subject: string }>("SELECT subject FROM audit_events WHERE action = 'report.triaged'");
    expect(triaged.map((e) => e.subject).sort()).toEqual([...ids].sort());
    // A new batch's first report does not join it a second time: 7 + 2 joins.
    expect(await db.query("SELECT 1 FROM audit_events WHERE action = 'batch.join'")).toHaveLength(9);
    expect(await db.query("SELECT 1 FROM audit_events WHERE action IN ('run.queued', 'run.triaged', 'run.rejected')")).toHaveLength(6);
    const queued = await db.query<{ kind: string; n: number }>('SELECT kind, count(*)::int AS n FROM jobs WHERE done_at IS NULL GROUP BY kind ORDER BY kind');
    expect(queued).toEqual([
      { kind: 'notify', n: 1 },
      { kind: 'run', n: 2 },
    ]);
  });

  it('fails only the report whose write fails; the rest of its group commits', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await accept(`Cart crashes ${i}`, `TypeError: x is undefined at cart.js:${i + 1}:1`));
    const bad = ids[2]!;
    const jobs = await claimJobs(db, { workerId: 'w', kinds: ['triage'], limit: 100, leaseMs: 60_000 });
    const w = watched((sql, params) => sql.includes('report.triaged') && JSON.stringify(params).includes(bad));
    const groups = new TriageGroups(w.deps);
    const results = await Promise.allSettled(jobs.map((j) => groups.triage(String(j.payload.reportId), j.id)));
    const failed = jobs.filter((_, i) => results[i]!.status === 'rejected').map((j) => String(j.payload.reportId));
    expect(failed).toEqual([bad]);

    const rows = await db.query<{ id: string; status: string; batch_id: string | null }>('SELECT id, status, batch_id FROM reports');
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(bad)).toMatchObject({ status: 'received', batch_id: null });
    const batch = byId.get(ids[0]!)!.batch_id;
    expect(batch).not.toBeNull();
    for (const id of ids.filter((i) => i !== bad)) expect(byId.get(id)).toMatchObject({ status: 'triaged', batch_id: batch });
    await expectFullSummary(batch!, 4);
    const open = await db.query<{ payload: { reportId: string } }>("SELECT payload FROM jobs WHERE kind = 'triage' AND done_at IS NULL");
    expect(open.map((j) => j.payload.reportId)).toEqual([bad]);
  });

  it('batches a backlog: a report received before the batch was started by triage joins it', async () => {
    const first = await accept('Cart crashes', 'TypeError: x is undefined at cart.js:1:1');
    const second = await accept('Cart crashes again', 'TypeError: x is undefined at cart.js:2:1');
    await triageReport(deps, first);
    await triageReport(deps, second);
    expect(await batchOf(second)).toBe(await batchOf(first));
    await expectFullSummary((await batchOf(first))!, 2);
  });

  it('lets a report older than the batch’s first member join it and become its first', async () => {
    const older = await accept('Cart crashes when paying', 'TypeError: x is undefined at cart.js:1:1');
    const newer = await accept('Cart crashes again', 'TypeError: x is undefined at cart.js:2:1');
    await triageReport(deps, newer);
    await triageReport(deps, older);
    const batch = await batchOf(newer);
    expect(await batchOf(older)).toBe(batch);
    await expectFullSummary(batch!, 2);
    const [row] = await db.query<{ first: boolean }>(
      `SELECT date_trunc('milliseconds', b.first_seen_at) = date_trunc('milliseconds', r.created_at) AS first FROM batches b, reports r WHERE b.id = $1 AND r.id = $2`,
      [batch, older],
    );
    expect(row!.first).toBe(true);
  });
});
