// Every acknowledged report reaches a decision: a report triage cannot read ends `errored`
// with the reason, visible in the API, instead of `received` behind a job marked done.
import { acceptReport } from '../../src/intake/index.js';
import { enqueueJob, startWorker, type Worker } from '../../src/pipeline/index.js';
import { issueApiKey } from '../../src/security/index.js';
import { getApp } from '../../src/store/apps.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { DB_KINDS } from '../helpers/db.js';
import { setUpCustomer, waitFor } from './scenario.js';

describe.each(DB_KINDS)('poison reports on %s', (kind) => {
  let app: TestApp;
  let worker: Worker | undefined;
  beforeEach(async () => {
    app = await startTestApp({ db: kind });
  }, 120_000);
  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
    await app.close();
  });

  it('moves a stored report triage cannot read to errored with the reason, shown by GET /api/v1/reports/:id', async () => {
    const { db } = app.deps.store;
    const { orgId, appId } = await setUpCustomer(app);
    // Shapes the fuzz pass got acknowledged: a repeated Slack form field became an array,
    // and Discord's member came as an array; inserted directly, as an older intake stored them.
    const poison = [
      { id: 'rep_poisonslack000001', content: { text: 'crash', reporter: { slackUserId: ['U1', 'U2'] } } },
      { id: 'rep_poisondiscord0001', content: [{ text: 'crash' }] },
    ];
    for (const p of poison) {
      await db.transaction(async (tx) => {
        await tx.query(`INSERT INTO reports (id, org_id, app_id, source, content) VALUES ($1, $2, $3, 'slack', $4)`, [
          p.id,
          orgId,
          appId,
          JSON.stringify(p.content),
        ]);
        await enqueueJob(tx, 'triage', `triage:${p.id}`, { reportId: p.id });
      });
    }
    worker = startWorker(app.deps.pipeline, { pollMs: 20 });
    await waitFor(
      async () => {
        const rows = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobs WHERE kind = 'triage' AND done_at IS NOT NULL`);
        return Number(rows[0]!.n) === poison.length;
      },
      60_000,
      'both triage jobs to end',
    );

    const { key } = await issueApiKey(db, orgId, { actor: 'test' });
    for (const p of poison) {
      const res = await fetch(`${app.url}/api/v1/reports/${p.id}`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ id: p.id, status: 'errored', reason: 'report_unreadable', run: null });
    }
    const audit = await db.query<{ subject: string }>(`SELECT subject FROM audit_events WHERE action = 'report.errored' ORDER BY subject`);
    expect(audit.map((a) => a.subject)).toEqual(poison.map((p) => p.id).sort());
  });

  it('refuses at intake a report body triage could not read, storing nothing', async () => {
    const { db, blobs } = app.deps.store;
    const { appId } = await setUpCustomer(app);
    const product = (await getApp(db, appId))!;
    const before = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM reports');
    const err = await acceptReport(
      { db, blobs },
      {
        app: product,
        source: 'slack',
        content: { text: 'x', reporter: { slackUserId: ['U1', 'U2'] as unknown as string } },
        replyTo: null,
        reporterKey: null,
        actor: 'test',
      },
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'invalid_report', status: 400 });
    const after = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM reports');
    expect(after[0]!.n).toBe(before[0]!.n);
    const jobs = await db.query('SELECT 1 FROM jobs');
    expect(jobs).toHaveLength(0);
  });

  it('still answers 404 for a report of another org', async () => {
    const { db } = app.deps.store;
    const { orgId, appId } = await setUpCustomer(app);
    await db.query(`INSERT INTO reports (id, org_id, app_id, source, content) VALUES ('rep_otherorg000000001', $1, $2, 'widget', '{"text":"hi"}')`, [
      orgId,
      appId,
    ]);
    const { insertOrg } = await import('../../src/store/index.js');
    const other = await insertOrg(db, 'other', 'test');
    const { key } = await issueApiKey(db, other.id, { actor: 'test' });
    const res = await fetch(`${app.url}/api/v1/reports/rep_otherorg000000001`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('report_not_found');
  });
});
