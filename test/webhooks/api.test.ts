import nock from 'nock';
import { getRunForBatch, startWorker, transitionRun, triageReport } from '../../src/pipeline/index.js';
import { recordReviewState } from '../../src/pipeline/runs.js';
import { issueApiKey } from '../../src/security/index.js';
import { getReportPlacement } from '../../src/store/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestOrg, DB_KINDS } from '../helpers/db.js';
import { apiClient, type ApiClient } from '../helpers/openapi.js';
import { postWidgetReport, setUpCustomer, waitFor } from '../pipeline/scenario.js';
import { documentedVerifier } from './verify-snippet.js';

const verify = documentedVerifier();
const REPORT_TEXT = 'The checkout total is wrong by one euro, my card is 4111 1111 1111 1111';

describe.each(DB_KINDS)('webhook endpoints API and the events of a report (%s)', (kind) => {
  let app: TestApp;
  let client: ApiClient;
  let customer: Awaited<ReturnType<typeof setUpCustomer>>;
  let admin: string;
  let reader: string;
  let foreign: string;
  beforeAll(async () => {
    app = await startTestApp({ db: kind });
    customer = await setUpCustomer(app);
    const { db } = app.deps.store;
    admin = (await issueApiKey(db, customer.orgId, { actor: 'test', scopes: ['admin'] })).key;
    reader = (await issueApiKey(db, customer.orgId, { actor: 'test', scopes: ['read'] })).key;
    const other = await createTestOrg(db, app.deps.vault, 'other');
    foreign = (await issueApiKey(db, other, { actor: 'test', scopes: ['admin'] })).key;
    client = await apiClient(app.url);
    nock.disableNetConnect();
    nock.enableNetConnect((host) => host.startsWith('127.0.0.1'));
  });
  afterAll(async () => {
    nock.cleanAll();
    nock.enableNetConnect();
    await app.close();
  });

  it('registers an endpoint with its secret shown once, lists and reads it, and keeps it to its org and scopes', async () => {
    const created = await client.call('POST', '/api/v1/webhook-endpoints', {
      key: admin,
      body: { url: 'https://hooks.example.com/crud', events: ['pr.merged', 'run.pr_opened'] },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ id: expect.stringMatching(/^whe_/), url: 'https://hooks.example.com/crud', events: ['pr.merged', 'run.pr_opened'] });
    expect(created.json.secret).toMatch(/^whsec_/);
    const id = created.json.id as string;

    const one = await client.call('GET', `/api/v1/webhook-endpoints/${id}`, { key: reader });
    expect(one.status).toBe(200);
    expect(one.json).not.toHaveProperty('secret');
    expect(one.text).not.toContain(created.json.secret);
    const list = await client.call('GET', '/api/v1/webhook-endpoints', { key: reader });
    expect(list.json.items.map((e: { id: string }) => e.id)).toContain(id);
    expect((await client.call('GET', `/api/v1/webhook-endpoints/${id}/deliveries`, { key: reader })).json).toEqual({ items: [], nextCursor: null });

    const readOnly = await client.call('POST', '/api/v1/webhook-endpoints', {
      key: reader,
      body: { url: 'https://hooks.example.com/r', events: ['pr.merged'] },
    });
    expect(readOnly.status).toBe(403);
    expect(readOnly.json.error).toMatchObject({ code: 'insufficient_scope', message: expect.stringContaining('admin') });
    expect((await client.call('DELETE', `/api/v1/webhook-endpoints/${id}`, { key: reader })).status).toBe(403);

    for (const url of ['http://hooks.example.com/plain', 'https://10.0.0.8/x', 'https://[fe80::1]/x']) {
      const refused = await client.call('POST', '/api/v1/webhook-endpoints', { key: admin, body: { url, events: ['pr.merged'] } });
      expect(refused.status).toBe(400);
      expect(refused.json.error.code).toBe('webhook_url_refused');
    }
    const badEvent = await client.call('POST', '/api/v1/webhook-endpoints', {
      key: admin,
      body: { url: 'https://hooks.example.com/x', events: ['report.deleted'] },
    });
    expect(badEvent.status).toBe(400);

    // Another org's key: nothing of this org exists for it.
    for (const path of [`/api/v1/webhook-endpoints/${id}`, `/api/v1/webhook-endpoints/${id}/deliveries`]) {
      const res = await client.call('GET', path, { key: foreign });
      expect(res.status).toBe(404);
      expect(res.json.error.code).toBe('webhook_endpoint_not_found');
    }
    expect((await client.call('DELETE', `/api/v1/webhook-endpoints/${id}`, { key: foreign })).status).toBe(404);
    expect((await client.call('GET', '/api/v1/webhook-endpoints', { key: foreign })).json.items).toEqual([]);

    expect((await client.call('DELETE', `/api/v1/webhook-endpoints/${id}`, { key: admin })).status).toBe(204);
    expect((await client.call('GET', `/api/v1/webhook-endpoints/${id}`, { key: admin })).status).toBe(404);
  });

  it('sends each event of a report and its runs, signed, through the worker, with ids only and no report text', async () => {
    const created = await client.call('POST', '/api/v1/webhook-endpoints', {
      key: admin,
      body: {
        url: 'https://hooks.example.com/all',
        events: ['report.received', 'report.needs_review', 'run.pr_opened', 'run.pr_failed', 'run.errored', 'pr.merged'],
      },
    });
    const { id: endpointId, secret } = created.json as { id: string; secret: string };
    const { db } = app.deps.store;

    // Two reports; without a model, triage holds each for review.
    const first = await postWidgetReport(app.url, customer.publicKey, { text: REPORT_TEXT });
    const second = await postWidgetReport(app.url, customer.publicKey, { text: `${REPORT_TEXT} (again)` });
    await triageReport(app.deps.pipeline, first.id);
    await triageReport(app.deps.pipeline, second.id);
    const runOf = async (reportId: string) => (await getRunForBatch(db, (await getReportPlacement(db, reportId))!.batchId!))!;
    const opened = await runOf(first.id);
    const failed = await runOf(second.id);
    expect([opened.state, failed.state]).toEqual(['needs_review', 'needs_review']);

    // The first run opens a draft that is merged; the second errors.
    for (const [from, to] of [
      ['needs_review', 'triaged'],
      ['triaged', 'running'],
      ['running', 'checking'],
    ] as const) {
      await db.transaction((tx) => transitionRun(tx, opened.id, from, to, { reason: null }));
    }
    await db.transaction((tx) =>
      transitionRun(tx, opened.id, 'checking', 'pr_opened', { reason: null, prUrl: 'https://github.com/acme/app/pull/7', prNumber: 7 }),
    );
    await db.transaction((tx) => recordReviewState(tx, opened.id, 'merged', 'github', { repoId: customer.repoId }));
    await db.transaction((tx) => transitionRun(tx, failed.id, 'needs_review', 'triaged', { reason: 'approved' }));
    await db.transaction((tx) => transitionRun(tx, failed.id, 'triaged', 'errored', { reason: 'sandbox_disabled' }));

    const received: Array<{ headers: Record<string, string>; body: string }> = [];
    nock('https://hooks.example.com')
      .post('/all')
      .times(7)
      .reply(function (_uri, body) {
        received.push({ headers: this.req.headers as Record<string, string>, body: typeof body === 'string' ? body : JSON.stringify(body) });
        return [200];
      });
    const worker = startWorker(
      { ...app.deps.pipeline, webhooks: { resolve: async () => ['93.184.216.34'] } },
      { pollMs: 50, concurrency: { triage: 0, run: 0, notify: 0, lifecycle: 0, webhook: 4 } },
    );
    try {
      await waitFor(async () => received.length === 7, 60_000, 'seven deliveries');
      await waitFor(
        async () => (await client.call('GET', `/api/v1/webhook-endpoints/${endpointId}/deliveries`, { key: reader })).json.items.length === 7,
        60_000,
        'seven logged attempts',
      );
    } finally {
      await worker.stop();
    }
    expect(nock.pendingMocks()).toEqual([]);

    const now = Math.floor(Date.now() / 1000);
    for (const r of received) {
      expect(verify(secret, r.headers['userz-signature'], r.body, now)).toBe(true);
      expect(r.body).not.toContain('checkout total');
      expect(r.body).not.toContain('4111');
      expect(r.body).not.toContain(secret);
    }
    const events = received.map((r) => JSON.parse(r.body) as { type: string; data: Record<string, unknown> });
    const byType = (type: string) => events.filter((e) => e.type === type).map((e) => e.data);
    expect(byType('report.received').map((d) => d.reportId)).toEqual(expect.arrayContaining([first.id, second.id]));
    expect(byType('report.received')[0]).toEqual({ reportId: expect.any(String), appId: customer.appId, source: 'widget' });
    expect(byType('report.needs_review')).toEqual(
      expect.arrayContaining([
        { reportId: first.id, runId: opened.id, appId: customer.appId, reason: expect.any(String) },
        { reportId: second.id, runId: failed.id, appId: customer.appId, reason: expect.any(String) },
      ]),
    );
    expect(byType('run.pr_opened')).toEqual([
      {
        runId: opened.id,
        appId: customer.appId,
        batchId: opened.batchId,
        state: 'pr_opened',
        reason: null,
        prUrl: 'https://github.com/acme/app/pull/7',
        prNumber: 7,
      },
    ]);
    expect(byType('pr.merged')).toEqual([{ runId: opened.id }]);
    expect(byType('run.errored')).toEqual([{ runId: failed.id, appId: customer.appId, batchId: failed.batchId, state: 'errored', reason: 'sandbox_disabled' }]);
    expect(new Set(received.map((r) => r.headers['userz-delivery-id'])).size).toBe(7);

    const log = await client.call('GET', `/api/v1/webhook-endpoints/${endpointId}/deliveries?limit=100`, { key: reader });
    expect(log.json.items.every((d: { delivered: boolean; statusCode: number }) => d.delivered && d.statusCode === 200)).toBe(true);
  });
});
