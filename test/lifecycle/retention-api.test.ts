import pino from 'pino';
import { expireBlobs } from '../../src/lifecycle/index.js';
import { issueApiKey } from '../../src/security/index.js';
import { listAudit } from '../../src/store/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestOrg } from '../helpers/db.js';
import { postWidgetReport, setUpCustomer } from '../pipeline/scenario.js';

const DAY = 86_400_000;

describe('retention API', () => {
  let app: TestApp;
  let key: string;
  let foreignKey: string;
  let appId: string;
  let publicKey: string;
  beforeAll(async () => {
    app = await startTestApp({ db: 'pglite' });
    const customer = await setUpCustomer(app);
    appId = customer.appId;
    publicKey = customer.publicKey;
    key = (await issueApiKey(app.deps.store.db, customer.orgId, { actor: 'test' })).key;
    const other = await createTestOrg(app.deps.store.db, app.deps.vault, 'other');
    foreignKey = (await issueApiKey(app.deps.store.db, other, { actor: 'test' })).key;
  });
  afterAll(async () => app.close());

  const call = (method: string, path: string, body?: unknown, k = key) =>
    fetch(`${app.url}${path}`, {
      method,
      redirect: 'manual',
      headers: { authorization: `Bearer ${k}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const sweep = (days: number) =>
    expireBlobs({ db: app.deps.store.db, blobs: app.deps.store.blobs, log: pino({ level: 'silent' }), now: () => new Date(Date.now() + days * DAY) });

  const reportWithScreenshot = async (text: string) => {
    const { id } = await postWidgetReport(app.url, publicKey, {
      text,
      attachments: [{ name: 'shot.png', contentType: 'image/png', data: Buffer.from(`png of ${text}`).toString('base64') }],
    });
    const [row] = await app.deps.store.db.query<{ attachments: Array<{ id: string }> }>('SELECT attachments FROM reports WHERE id = $1', [id]);
    return { id, attachmentId: row!.attachments[0]!.id };
  };

  it('sets and reads the org retention, refusing bad days with a stable code', async () => {
    expect(await (await call('GET', '/api/v1/retention')).json()).toMatchObject({ days: 30, apps: [{ id: appId, retained: false }] });
    const bad = await call('PUT', '/api/v1/retention', { days: 0 });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'invalid_input', message: expect.stringContaining('days') } });
    expect((await call('PUT', '/api/v1/retention', { days: 'thirty' })).status).toBe(400);
    expect((await call('PUT', '/api/v1/retention', { days: 45 })).status).toBe(200);
    expect(await (await call('GET', '/api/v1/retention')).json()).toMatchObject({ days: 45 });
    expect((await call('PUT', '/api/v1/retention', { days: 30 })).status).toBe(200);
    expect((await listAudit(app.deps.store.db, { action: 'org.retention_set' })).map((e) => e.data)).toEqual([{ days: 45 }, { days: 30 }]);
  });

  it('keeps a retained report past 30 days, says expired for the other, and serves attachments until then', async () => {
    const kept = await reportWithScreenshot('kept report');
    const plain = await reportWithScreenshot('plain report');
    const put = await call('PUT', `/api/v1/reports/${kept.id}/retention`, { retained: true });
    expect(put.status).toBe(200);

    const before = await call('GET', `/api/v1/reports/${plain.id}/attachments/${plain.attachmentId}`);
    expect(before.status).toBe(200);
    expect(before.headers.get('content-disposition')).toBe('attachment');
    expect(await before.text()).toBe('png of plain report');

    await sweep(31);
    const gone = await call('GET', `/api/v1/reports/${plain.id}/attachments/${plain.attachmentId}`);
    expect(gone.status).toBe(410);
    expect(await gone.json()).toMatchObject({ error: { code: 'blob_expired' } });
    expect(await (await call('GET', `/api/v1/reports/${plain.id}/blobs`)).json()).toMatchObject({ blobs: [{ kind: 'attachment', expired: true }] });
    expect((await call('GET', `/api/v1/reports/${kept.id}/attachments/${kept.attachmentId}`)).status).toBe(200);
    expect(await (await call('GET', `/api/v1/reports/${kept.id}/blobs`)).json()).toMatchObject({ blobs: [{ expired: false }] });
  });

  it("retains by App default, and answers another org's key as if nothing existed", async () => {
    expect((await call('PUT', `/api/v1/apps/${appId}/retention`, { retained: true })).status).toBe(200);
    const r = await reportWithScreenshot('app retained');
    await sweep(31);
    expect((await call('GET', `/api/v1/reports/${r.id}/attachments/${r.attachmentId}`)).status).toBe(200);

    for (const [method, path, body] of [
      ['PUT', `/api/v1/apps/${appId}/retention`, { retained: false }],
      ['PUT', `/api/v1/reports/${r.id}/retention`, { retained: null }],
      ['GET', `/api/v1/reports/${r.id}/attachments/${r.attachmentId}`, undefined],
      ['GET', `/api/v1/reports/${r.id}/blobs`, undefined],
    ] as const) {
      const res = await call(method, path, body, foreignKey);
      expect(res.status).toBe(404);
    }
    expect((await call('PUT', `/api/v1/reports/${r.id}/retention`, { retained: 'yes' })).status).toBe(400);
    expect((await call('PUT', `/api/v1/runs/run_nope/retention`, { retained: true })).status).toBe(404);
    expect((await call('PUT', `/api/v1/apps/${appId}/retention`, { retained: false })).status).toBe(200);
  });
});
