import { decideHeldReport, triageReport } from '../../src/pipeline/index.js';
import { issueApiKey } from '../../src/security/index.js';
import { listAudit } from '../../src/store/index.js';
import { memberPrincipal } from '../../src/tenant/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { postWidgetReport, runOfReport, setUpCustomer } from './scenario.js';

// decideHeldReport is the one decision the API route and the console's review queue share.
describe('decideHeldReport', () => {
  let app: TestApp;
  let orgId: string;
  let publicKey: string;
  beforeAll(async () => {
    app = await startTestApp({ db: 'pglite' });
    ({ orgId, publicKey } = await setUpCustomer(app));
  });
  afterAll(async () => app.close());

  async function heldReport(text: string): Promise<string> {
    const id = (await postWidgetReport(app.url, publicKey, { text })).id;
    await triageReport(app.deps.pipeline, id);
    return id;
  }

  it('refuses a read-only key with 403 insufficient_scope and leaves the report held', async () => {
    const reportId = await heldReport('The cart badge never updates.');
    const { key } = await issueApiKey(app.deps.store.db, orgId, { actor: 'test', scopes: ['read'] });
    const res = await fetch(`${app.url}/api/v1/reports/${reportId}/approve`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('insufficient_scope');
    expect((await runOfReport(app.deps.store.db, reportId))!.state).toBe('needs_review');
  });

  it('approves as a member: the run is queued and the decision audited with the member as actor', async () => {
    const reportId = await heldReport('The invoice PDF is blank.');
    const principal = memberPrincipal({ userId: 'usr_maintainer', orgId, role: 'member' });
    const { runId, state } = await decideHeldReport(app.deps.pipeline, principal, reportId, { action: 'approve' });
    expect(state).toBe('triaged');
    expect((await runOfReport(app.deps.store.db, reportId))!.id).toBe(runId);
    expect(await app.deps.store.db.query('SELECT kind FROM jobs WHERE key = $1 AND done_at IS NULL', [`run:${runId}`])).toEqual([{ kind: 'run' }]);
    const events = await listAudit(app.deps.store.db, { subject: reportId, action: 'report.review' });
    expect(events.map((e) => [e.actor, e.data])).toEqual([['user:usr_maintainer', { decision: 'approve', runId }]]);
    await expect(decideHeldReport(app.deps.pipeline, principal, reportId, { action: 'approve' })).rejects.toMatchObject({ code: 'report_not_held' });
  });

  it("treats another org's member like a report that does not exist, and changes nothing", async () => {
    const reportId = await heldReport('The map does not load.');
    const stranger = memberPrincipal({ userId: 'usr_stranger', orgId: 'org_other', role: 'owner' });
    await expect(decideHeldReport(app.deps.pipeline, stranger, reportId, { action: 'reject', reason: 'no' })).rejects.toMatchObject({
      code: 'report_not_found',
    });
    expect((await runOfReport(app.deps.store.db, reportId))!.state).toBe('needs_review');
    expect(await listAudit(app.deps.store.db, { subject: reportId, action: 'report.review' })).toEqual([]);
  });
});
