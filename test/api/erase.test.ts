import { issueApiKey } from '../../src/security/index.js';
import { listAudit } from '../../src/store/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestOrg } from '../helpers/db.js';
import { apiClient, type ApiClient } from '../helpers/openapi.js';
import { postWidgetReport, setUpCustomer } from '../pipeline/scenario.js';

const alice = { id: 'u-alice-41', email: 'alice.erase@example.com' };
const bob = { id: 'u-bob-42', email: 'bob.keep@example.com' };

describe('data deletion through the API', () => {
  let app: TestApp;
  let client: ApiClient;
  let orgId: string;
  let appId: string;
  let admin: { key: string; id: string };
  let write: string;
  const count = async (sql: string, params: unknown[] = []) => Number((await app.deps.store.db.query<{ n: string }>(sql, params))[0]!.n);

  beforeAll(async () => {
    app = await startTestApp({ db: 'pglite' });
    const customer = await setUpCustomer(app);
    orgId = customer.orgId;
    appId = customer.appId;
    admin = await issueApiKey(app.deps.store.db, orgId, { actor: 'test', scopes: ['admin'] });
    write = (await issueApiKey(app.deps.store.db, orgId, { actor: 'test', scopes: ['write'] })).key;
    for (const who of [alice, alice, bob]) {
      await postWidgetReport(app.url, customer.publicKey, { text: `Checkout broke for ${who.email}`, reporter: { id: who.id, email: who.email } });
    }
    client = await apiClient(app.url);
  });
  afterAll(async () => app.close());

  it('needs the admin scope', async () => {
    const res = await client.call('POST', '/api/v1/data/delete', { key: write, body: { subject: { reporter: alice.email } } });
    expect([res.status, res.json.error.code, res.json.error.message]).toEqual([403, 'insufficient_scope', expect.stringContaining('`admin`')]);
  });

  it('counts first with dryRun, then deletes one reporter and leaves the others, audited without their identifiers', async () => {
    const dry = await client.call('POST', '/api/v1/data/delete', { key: admin.key, body: { subject: { reporter: alice.email }, dryRun: true } });
    expect(dry.json).toMatchObject({ deleted: false, subject: 'reporter', counts: { reports: 2 } });
    expect(await count('SELECT count(*) AS n FROM reports WHERE org_id = $1', [orgId])).toBe(3);

    const res = await client.call('POST', '/api/v1/data/delete', { key: admin.key, body: { subject: { reporter: alice.email } } });
    expect(res.json).toMatchObject({ deleted: true, subject: 'reporter', counts: { reports: 2 } });
    const left = await app.deps.store.db.query<{ content: unknown }>('SELECT content FROM reports WHERE org_id = $1', [orgId]);
    expect(JSON.stringify(left)).not.toContain(alice.email);
    expect(JSON.stringify(left)).toContain(bob.email);
    const events = await listAudit(app.deps.store.db, { action: 'data.deleted' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actor: `api_key:${admin.id}`, data: { subjectKind: 'reporter', reports: 2 } });
    expect(JSON.stringify(events)).not.toContain(alice.email);
    expect(JSON.stringify(events)).not.toContain(alice.id);
  });

  it("answers another org's App or org as not found, and deletes nothing", async () => {
    const other = await createTestOrg(app.deps.store.db, app.deps.vault, 'other');
    const otherKey = (await issueApiKey(app.deps.store.db, other, { actor: 'test' })).key;
    const byApp = await client.call('POST', '/api/v1/data/delete', { key: otherKey, body: { subject: { app: appId } } });
    expect([byApp.status, byApp.json.error.code]).toEqual([404, 'app_not_found']);
    const byOrg = await client.call('POST', '/api/v1/data/delete', { key: otherKey, body: { subject: { org: orgId } } });
    expect([byOrg.status, byOrg.json.error.code]).toEqual([404, 'org_not_found']);
    const twoSubjects = await client.call('POST', '/api/v1/data/delete', { key: otherKey, body: { subject: { org: other, app: appId } } });
    expect([twoSubjects.status, twoSubjects.json.error.code]).toEqual([400, 'invalid_payload']);
    expect(await count('SELECT count(*) AS n FROM reports WHERE org_id = $1', [orgId])).toBe(1);
  });

  it('deletes an App, then the whole org, whose keys stop working', async () => {
    const byApp = await client.call('POST', '/api/v1/data/delete', { key: admin.key, body: { subject: { app: appId } } });
    expect(byApp.json).toMatchObject({ deleted: true, subject: 'app', counts: { apps: 1, reports: 1 } });
    const byOrg = await client.call('POST', '/api/v1/data/delete', { key: admin.key, body: { subject: { org: orgId } } });
    expect(byOrg.json).toMatchObject({ deleted: true, subject: 'org', counts: { orgs: 1 } });
    expect(await count('SELECT count(*) AS n FROM api_keys WHERE org_id = $1', [orgId])).toBe(0);
    const after = await client.call('GET', '/api/v1/runs', { key: admin.key });
    expect([after.status, after.json.error.code]).toEqual([401, 'invalid_api_key']);
  });
});
