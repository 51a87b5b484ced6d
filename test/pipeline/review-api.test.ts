import { issueApiKey } from '../../src/security/index.js';
import { triageReport } from '../../src/pipeline/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestOrg } from '../helpers/db.js';
import { apiClient, type ApiClient } from '../helpers/openapi.js';
import { postWidgetReport, runOfReport, setUpCustomer } from './scenario.js';

describe('maintainer review API', () => {
  let app: TestApp;
  let reportId: string;
  let ownKey: string;
  let foreignKey: string;
  // Every call is checked against GET /api/v1/openapi.json (test/helpers/openapi.ts).
  let client: ApiClient;
  beforeAll(async () => {
    app = await startTestApp({ db: 'pglite' });
    const customer = await setUpCustomer(app);
    ownKey = (await issueApiKey(app.deps.store.db, customer.orgId, { actor: 'test' })).key;
    const otherOrg = await createTestOrg(app.deps.store.db, app.deps.vault, 'other');
    foreignKey = (await issueApiKey(app.deps.store.db, otherOrg, { actor: 'test' })).key;
    // No classifier configured: the report is held for review.
    reportId = (await postWidgetReport(app.url, customer.publicKey, { text: 'The cart is empty after login.' })).id;
    await triageReport(app.deps.pipeline, reportId);
    client = await apiClient(app.url);
  });
  afterAll(async () => app.close());

  const decide = (verb: 'approve' | 'reject', key?: string) => client.call('POST', `/api/v1/reports/${reportId}/${verb}`, { key });

  it("refuses a missing key, and another org's key as if the report did not exist", async () => {
    expect((await decide('approve')).status).toBe(401);
    const foreign = await decide('approve', foreignKey);
    expect(foreign.status).toBe(404);
    expect(foreign.json).toMatchObject({ error: { code: 'report_not_found' } });
    expect((await runOfReport(app.deps.store.db, reportId))!.state).toBe('needs_review');
  });

  it('rejects once with its own key, queues the reporter notification, and refuses a second decision', async () => {
    const res = await decide('reject', ownKey);
    expect(res.status).toBe(200);
    const run = (await runOfReport(app.deps.store.db, reportId))!;
    expect([run.state, run.stateReason]).toEqual(['rejected', 'maintainer_rejected']);
    const jobs = await app.deps.store.db.query<{ key: string }>("SELECT key FROM jobs WHERE kind = 'notify'");
    expect(jobs.map((j) => j.key)).toEqual([`notify:${run.id}`]);
    const again = await decide('approve', ownKey);
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ error: { code: 'report_not_held' } });
  });
});
