import { randomUUID } from 'node:crypto';
import { UserzError } from '../../src/errors.js';
import { ScriptedModelClient } from '../../src/model/index.js';
import { executeRun, getRun, getRunForBatch, transitionRun, triageReport } from '../../src/pipeline/index.js';
import { insertOrg, type Db } from '../../src/store/index.js';
import { acceptReport } from '../../src/intake/index.js';
import { getApp } from '../../src/store/apps.js';
import { startTestApp, TEST_WEBHOOK_SECRET, type TestApp } from '../helpers/app.js';
import { githubExample, sendGitHubWebhook } from '../helpers/github.js';
import { setUpCustomer } from './scenario.js';

/** The scenario's customer, with its App as the intake stores it. */
async function customer(app: TestApp) {
  const { orgId, appId } = await setUpCustomer(app);
  return { orgId, app: (await getApp(app.deps.store.db, appId))! };
}

async function stateAfterTriage(app: TestApp, classifier: ScriptedModelClient | undefined, text = 'The checkout button does nothing.') {
  const { app: product } = await customer(app);
  const deps = { ...app.deps.pipeline, classifier };
  const { report } = await acceptReport(
    { db: app.deps.store.db, blobs: app.deps.store.blobs },
    { app: product, source: 'widget', content: { text }, replyTo: { kind: 'widget' }, reporterKey: null, actor: 'test' },
  );
  await triageReport(deps, report.id);
  const [row] = await app.deps.store.db.query<{ batch_id: string }>('SELECT batch_id FROM reports WHERE id = $1', [report.id]);
  return (await getRunForBatch(app.deps.store.db, row!.batch_id))!;
}

describe('triage stage fails closed', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await startTestApp({ db: 'pglite' });
  });
  afterEach(async () => app.close());

  it('holds the report when the classifier answers invalid JSON', async () => {
    const run = await stateAfterTriage(app, new ScriptedModelClient([{ content: 'sure! {label: benign' }]));
    expect([run.state, run.stateReason]).toEqual(['needs_review', 'classifier_invalid_json']);
  });

  it('holds the report when the classifier refuses', async () => {
    const run = await stateAfterTriage(app, new ScriptedModelClient([{ content: 'I cannot help with that.', stopReason: 'refusal' }]));
    expect(run.state).toBe('needs_review');
    expect(run.stateReason).toMatch(/^classifier_refus/);
  });

  it('holds the report when the classifier call times out', async () => {
    // What the OpenAI/Anthropic clients throw when their own deadline passes.
    const timingOut = new ScriptedModelClient([
      () => {
        throw new UserzError('model_timeout', 'The model did not answer in time', { retryable: true });
      },
    ]);
    const run = await stateAfterTriage(app, timingOut);
    expect(run.state).toBe('needs_review');
    expect(run.stateReason).toMatch(/^classifier_/);
  });

  it('holds the report when no classifier is configured, and never starts a run', async () => {
    const run = await stateAfterTriage(app, undefined);
    expect([run.state, run.stateReason]).toEqual(['needs_review', 'model_not_configured']);
    const jobs = await app.deps.store.db.query("SELECT 1 FROM jobs WHERE kind = 'run'");
    expect(jobs).toHaveLength(0);
  });

  it('rejects spam with its label and queues the reporter notification', async () => {
    const run = await stateAfterTriage(
      app,
      new ScriptedModelClient([{ content: JSON.stringify({ label: 'spam', confidence: 0.99, reason: 'ad' }) }]),
      'Buy cheap watches at example dot com',
    );
    expect([run.state, run.stateReason]).toEqual(['rejected', 'spam']);
    const jobs = await app.deps.store.db.query<{ key: string }>("SELECT key FROM jobs WHERE kind = 'notify'");
    expect(jobs.map((j) => j.key)).toEqual([`notify:${run.id}`]);
  });

  it('puts two reports of the same error into one batch served by one run', async () => {
    const { app: product } = await customer(app);
    const classifier = new ScriptedModelClient([
      { content: JSON.stringify({ label: 'benign', confidence: 0.9, reason: 'bug' }) },
      { content: JSON.stringify({ label: 'benign', confidence: 0.9, reason: 'bug' }) },
    ]);
    const deps = { ...app.deps.pipeline, classifier, batchDelayMs: 60_000 };
    const ids: string[] = [];
    for (const line of ['TypeError: x is undefined at cart.js:10:5', 'TypeError: x is undefined at cart.js:12:9']) {
      const { report } = await acceptReport(
        { db: app.deps.store.db, blobs: app.deps.store.blobs },
        {
          app: product,
          source: 'widget',
          content: { text: 'Cart crashes', console: [{ level: 'error', message: line }] },
          replyTo: { kind: 'widget' },
          reporterKey: null,
          actor: 'test',
        },
      );
      await triageReport(deps, report.id);
      ids.push(report.id);
    }
    const rows = await app.deps.store.db.query<{ batch_id: string }>('SELECT batch_id FROM reports WHERE id = ANY($1::text[])', [ids]);
    expect(new Set(rows.map((r) => r.batch_id)).size).toBe(1);
    const runs = await app.deps.store.db.query("SELECT 1 FROM runs WHERE state = 'triaged'");
    expect(runs).toHaveLength(1);
    const [batch] = await app.deps.store.db.query<{ report_count: number }>('SELECT report_count FROM batches WHERE id = $1', [rows[0]!.batch_id]);
    expect(batch!.report_count).toBe(2);
  });
});

describe('GitHub redeliveries', () => {
  it('1,000 copies of one delivery apply it once', async () => {
    // This is about de-duplication under concurrency, not overload: with webhook shedding on, a
    // loaded machine answers some copies 503 (GitHub redelivers those), and the count below is
    // of answers. Shedding has its own tests (test/http/shed*.test.ts).
    const app = await startTestApp({ db: 'postgres', github: true, env: { USERZ_SHED_WEBHOOKS: '0' } });
    const db: Db = app.deps.store.db;
    try {
      await insertOrg(db, 'acme', 'test');
      const payload = githubExample('installation', 'created');
      const deliveryId = randomUUID();
      let ok = 0;
      for (let batch = 0; batch < 50; batch++) {
        const answers = await Promise.all(
          Array.from({ length: 20 }, () => sendGitHubWebhook(app.url, 'installation', payload, { secret: TEST_WEBHOOK_SECRET, deliveryId })),
        );
        ok += answers.filter((r) => r.status < 300).length;
      }
      expect(ok).toBe(1000);
      const [deliveries] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_deliveries WHERE delivery_id = $1', [deliveryId]);
      expect(Number(deliveries!.n)).toBe(1);
      const added = await db.query("SELECT 1 FROM audit_events WHERE action = 'repo.add'");
      expect(added).toHaveLength(payload.repositories.length);
    } finally {
      await app.close();
    }
  }, 120_000);
});

describe('per-App daily run limit', () => {
  it('defers a run past the limit and leaves it triaged', async () => {
    const app = await startTestApp({ db: 'pglite' });
    try {
      const { db } = app.deps.store;
      const { app: product } = await customer(app);
      await db.query('UPDATE apps SET daily_run_limit = 1 WHERE id = $1', [product.id]);
      const classifier = new ScriptedModelClient([
        { content: JSON.stringify({ label: 'benign', confidence: 0.9, reason: 'bug' }) },
        { content: JSON.stringify({ label: 'benign', confidence: 0.9, reason: 'bug' }) },
      ]);
      const deps = { ...app.deps.pipeline, classifier, batchDelayMs: 0 };
      const runs = [];
      for (const text of ['The export button crashes the page', 'Dark mode colours are unreadable in settings']) {
        const { report } = await acceptReport(
          { db, blobs: app.deps.store.blobs },
          { app: product, source: 'widget', content: { text }, replyTo: { kind: 'widget' }, reporterKey: null, actor: 'test' },
        );
        await triageReport(deps, report.id);
        const [row] = await db.query<{ batch_id: string }>('SELECT batch_id FROM reports WHERE id = $1', [report.id]);
        runs.push((await getRunForBatch(db, row!.batch_id))!);
      }
      // The first run takes today's only slot.
      await transitionRun(db, runs[0]!.id, 'triaged', 'running');
      const step = await executeRun(deps, runs[1]!.id, { finalAttempt: true });
      expect(step).toEqual({ kind: 'deferred', until: expect.any(Date) });
      const second = await getRun(db, runs[1]!.id);
      expect([second!.state, second!.stateReason]).toEqual(['triaged', 'daily_limit_reached']);
    } finally {
      await app.close();
    }
  });
});
