import { issueApiKey } from '../../src/security/index.js';
import { notifyRun, triageReport } from '../../src/pipeline/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { postWidgetReport, runOfReport, setUpCustomer } from './scenario.js';

describe('reject reason', () => {
  let app: TestApp;
  let key: string;
  let publicKey: string;
  beforeAll(async () => {
    app = await startTestApp({ db: 'pglite' });
    const customer = await setUpCustomer(app);
    publicKey = customer.publicKey;
    key = (await issueApiKey(app.deps.store.db, customer.orgId, { actor: 'test' })).key;
  });
  afterAll(async () => app.close());

  /** A report held for review (no classifier is configured). */
  async function heldReport(text: string): Promise<string> {
    const id = (await postWidgetReport(app.url, publicKey, { text })).id;
    await triageReport(app.deps.pipeline, id);
    return id;
  }
  const reject = (reportId: string, body: string) =>
    fetch(`${app.url}/api/v1/reports/${reportId}/reject`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body,
    });
  const noteOf = async (reportId: string) => {
    const run = (await runOfReport(app.deps.store.db, reportId))!;
    const [row] = await app.deps.store.db.query<{ review_note: string | null }>('SELECT review_note FROM runs WHERE id = $1', [run.id]);
    return { state: run.state, note: row!.review_note };
  };

  it('keeps the reason the maintainer gives on the run, and tells the reporter only the fixed refusal', async () => {
    const reportId = await heldReport('The checkout button does nothing.');
    const res = await reject(reportId, JSON.stringify({ reason: '  Works as designed: see ticket 12.  ' }));
    expect(res.status).toBe(200);
    expect(await noteOf(reportId)).toEqual({ state: 'rejected', note: 'Works as designed: see ticket 12.' });
    await notifyRun(app.deps.pipeline, (await runOfReport(app.deps.store.db, reportId))!.id);
    const [told] = await app.deps.store.db.query<{ outcome: unknown }>('SELECT outcome FROM reports WHERE id = $1', [reportId]);
    expect(told!.outcome).toEqual({ kind: 'refused', reason: 'The report was not accepted for an automatic fix.' });
  });

  it('stores no note without a reason', async () => {
    const reportId = await heldReport('The search box loses focus.');
    expect((await reject(reportId, '{}')).status).toBe(200);
    expect(await noteOf(reportId)).toEqual({ state: 'rejected', note: null });
  });

  it('refuses a reason that is not a short string, and leaves the report held', async () => {
    const reportId = await heldReport('The avatar upload spins forever.');
    for (const body of [JSON.stringify({ reason: 42 }), JSON.stringify({ reason: 'x'.repeat(501) })]) {
      const res = await reject(reportId, body);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: { code: 'invalid_request', message: 'reason must be a string of at most 500 characters' } });
    }
    expect(await noteOf(reportId)).toEqual({ state: 'needs_review', note: null });
  });
});
