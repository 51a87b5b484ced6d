/**
 * Every /api/v1 route that names an object by id, called with an sk_ key of another org:
 * 404 with the route's not-found code, and nothing changes (rows and audit log alike).
 */
import { generateKeyPairSync } from 'node:crypto';
import { issueApiKey } from '../../src/security/index.js';
import { triageReport } from '../../src/pipeline/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestOrg } from '../helpers/db.js';
import { postWidgetReport, runOfReport, setUpCustomer } from '../pipeline/scenario.js';

describe("another org's sk_ key sees none of an org's objects", () => {
  let app: TestApp;
  let ids: { appId: string; reportId: string; runId: string; repoId: string };
  let ownKey: string;
  let foreignKey: string;
  beforeAll(async () => {
    // Discord configured, so the chat-link-code route gets as far as looking the App up.
    const discordPublicKey = (generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }) as Buffer).subarray(-32).toString('hex');
    app = await startTestApp({ db: 'postgres', env: { DISCORD_APPLICATION_ID: '123456789012345678', DISCORD_PUBLIC_KEY: discordPublicKey } });
    const customer = await setUpCustomer(app);
    ownKey = (await issueApiKey(app.deps.store.db, customer.orgId, { actor: 'test' })).key;
    const otherOrg = await createTestOrg(app.deps.store.db, app.deps.vault, 'org-b');
    foreignKey = (await issueApiKey(app.deps.store.db, otherOrg, { actor: 'test' })).key;
    // No classifier configured: the report is held for review, so approve and reject have something to act on.
    const reportId = (await postWidgetReport(app.url, customer.publicKey, { text: 'The cart is empty after login.' })).id;
    await triageReport(app.deps.pipeline, reportId);
    ids = { appId: customer.appId, reportId, runId: (await runOfReport(app.deps.store.db, reportId))!.id, repoId: customer.repoId };
  });
  afterAll(async () => app.close());

  const snapshot = async () => {
    const db = app.deps.store.db;
    return JSON.stringify([
      await db.query('SELECT * FROM apps ORDER BY id'),
      await db.query('SELECT id, state, state_reason, review_state, updated_at FROM runs ORDER BY id'),
      await db.query('SELECT id, status, batch_id FROM reports ORDER BY id'),
      await db.query('SELECT count(*)::int AS n FROM audit_events'),
      await db.query('SELECT count(*)::int AS n FROM jobs'),
    ]);
  };

  const routes: Array<[string, string, () => string, () => unknown, string]> = [
    ['GET', 'app', () => `/api/v1/apps/${ids.appId}`, () => undefined, 'app_not_found'],
    ['PATCH', 'app (name)', () => `/api/v1/apps/${ids.appId}`, () => ({ name: 'Taken' }), 'app_not_found'],
    ['PATCH', 'app (repo, its own repo)', () => `/api/v1/apps/${ids.appId}`, () => ({ repoId: ids.repoId }), 'repo_not_found'],
    ['PATCH', 'app (unlink chat)', () => `/api/v1/apps/${ids.appId}`, () => ({ slack: null, discord: null }), 'app_not_found'],
    ['POST', 'chat link code', () => `/api/v1/apps/${ids.appId}/chat-link-codes`, () => ({ provider: 'discord' }), 'app_not_found'],
    ['GET', 'report', () => `/api/v1/reports/${ids.reportId}`, () => undefined, 'report_not_found'],
    ['POST', 'approve', () => `/api/v1/reports/${ids.reportId}/approve`, () => undefined, 'report_not_found'],
    ['POST', 'reject', () => `/api/v1/reports/${ids.reportId}/reject`, () => undefined, 'report_not_found'],
    ['GET', 'run', () => `/api/v1/runs/${ids.runId}`, () => undefined, 'run_not_found'],
  ];

  it.each(routes)('%s %s: 404 and nothing changed', async (method, _what, path, bodyOf, code) => {
    const body = bodyOf();
    const before = await snapshot();
    const res = await fetch(`${app.url}${path()}`, {
      method,
      headers: { authorization: `Bearer ${foreignKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = (await res.json()) as { error?: { code?: string } };
    expect([res.status, answer.error?.code]).toEqual([404, code]);
    expect(await snapshot()).toBe(before);
  });

  it('answers the owning org (the control: the ids are real)', async () => {
    for (const path of [`/api/v1/apps/${ids.appId}`, `/api/v1/reports/${ids.reportId}`, `/api/v1/runs/${ids.runId}`]) {
      expect((await fetch(`${app.url}${path}`, { headers: { authorization: `Bearer ${ownKey}` } })).status).toBe(200);
    }
  });
});
