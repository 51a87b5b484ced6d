/**
 * The reporter hears back by email (issue 18): when the draft for a report is merged or
 * closed and the reporter left an email, the console's mailer sends one message per
 * outcome naming the report by id, with no report text. An address that is not one plain
 * address (a list, a header break) gets nothing.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createApp, createNotifier } from '../../src/intake/index.js';
import { createMailer } from '../../src/mail/index.js';
import { insertRun, transitionRun } from '../../src/pipeline/index.js';
import { insertReport, newId, upsertRepo, type Db } from '../../src/store/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestOrg } from '../helpers/db.js';

const SECRET_TEXT = 'The cart total is wrong when the coupon SAVE10 is used';

async function widgetReports(app: TestApp, reporters: Array<Record<string, string>>): Promise<{ runId: string; reportIds: string[] }> {
  const db: Db = app.deps.store.db;
  const orgId = await createTestOrg(db, app.deps.vault, `acme-${randomUUID().slice(0, 8)}`);
  const repo = await upsertRepo(db, { orgId, forge: 'github', externalId: '186853002', fullName: 'acme/app' }, 'test');
  const product = await createApp(db, app.deps.vault, { orgId, name: 'Shop', origins: [], repoId: repo.id, actor: 'test' });
  const batchId = newId('bat');
  await db.query(`INSERT INTO batches (id, app_id, fingerprint, open_until) VALUES ($1, $2, 'x', now())`, [batchId, product.app.id]);
  const reportIds: string[] = [];
  for (const reporter of reporters) {
    const report = await insertReport(
      db,
      {
        orgId,
        appId: product.app.id,
        content: { text: SECRET_TEXT, reporter },
        reporterKey: null,
        attachments: [],
        id: newId('rep'),
        source: 'widget',
        replyTo: { kind: 'widget' },
        statusToken: randomUUID().replace(/-/g, ''),
      },
      'test',
    );
    reportIds.push(report.id);
  }
  await db.query('UPDATE reports SET batch_id = $1 WHERE id = ANY($2)', [batchId, reportIds]);
  const run = await insertRun(db, { orgId, appId: product.app.id, batchId, repoId: repo.id, state: 'queued' });
  for (const [from, to] of [
    ['queued', 'triaged'],
    ['triaged', 'running'],
    ['running', 'checking'],
    ['checking', 'pr_opened'],
  ] as const) {
    await transitionRun(db, run.id, from, to, { prUrl: to === 'pr_opened' ? 'https://github.com/acme/app/pull/7' : undefined });
  }
  return { runId: run.id, reportIds };
}

describe('the reporter hears back by email when the draft is merged or closed', () => {
  let app: TestApp;
  let outbox: string;
  beforeAll(async () => {
    app = await startTestApp({ db: 'pglite' });
  });
  beforeEach(() => {
    outbox = mkdtempSync(join(tmpdir(), 'userz-outbox-'));
  });
  afterEach(() => rmSync(outbox, { recursive: true, force: true }));
  afterAll(async () => app.close());

  const notifier = () => {
    const log = pino({ level: 'silent' });
    return createNotifier({
      db: app.deps.store.db,
      vault: app.deps.vault,
      log,
      config: {},
      mailer: createMailer({ from: 'Userz <userz@shop.example>', outboxDir: outbox, log }),
    });
  };
  const mails = () => readdirSync(outbox).map((f) => readFileSync(join(outbox, f), 'utf8').replace(/\r?\n[ \t]+/g, ' ')); // headers unfolded

  it('mails a reporter who left an address once per outcome, naming the report by id and nothing of its text', async () => {
    const { runId, reportIds } = await widgetReports(app, [{ name: 'Jane Roe', email: 'jane.roe@example.com' }]);
    const n = notifier();
    await n.notifyReviewOutcome!({ id: reportIds[0]! }, 'merged', runId);
    await n.notifyReviewOutcome!({ id: reportIds[0]! }, 'merged', runId);
    const sent = mails();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatch(/^To: jane\.roe@example\.com$/m);
    expect(sent[0]).toContain(`Subject: Your report ${reportIds[0]}: the fix was merged`);
    expect(sent[0]).not.toMatch(/SAVE10|coupon|cart total|Jane Roe|github|acme/i);

    await n.notifyReviewOutcome!({ id: reportIds[0]! }, 'closed', runId);
    expect(mails()).toHaveLength(2);
    expect(mails().some((m) => m.includes(`Subject: Your report ${reportIds[0]}: the proposed fix was closed`))).toBe(true);
  });

  it('sends nothing for a list of addresses, a header break or no address', async () => {
    const { runId, reportIds } = await widgetReports(app, [
      { email: 'a@example.com, b@example.com' },
      { email: 'a@example.com\r\nBcc: b@example.com' },
      { name: 'No Mail' },
    ]);
    const n = notifier();
    for (const id of reportIds) await n.notifyReviewOutcome!({ id }, 'merged', runId);
    expect(mails()).toEqual([]);
  });
});
