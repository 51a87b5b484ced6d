import nock from 'nock';
import { listAudit } from '../../src/store/index.js';
import { openAdminHarness, type AdminHarness } from './admin-harness.js';

const BASE = 'https://models.example.com';
const KEY = 'sk-test-org-key-0123456789';
const models = { object: 'list', data: ['m-agent', 'm-small'].map((id) => ({ id, object: 'model', created: 0, owned_by: 'x' })) };

describe('console settings: model, usage and caps', () => {
  let h: AdminHarness;
  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect((host) => host.startsWith('127.0.0.1'));
    h = await openAdminHarness();
  });
  afterAll(async () => {
    nock.enableNetConnect();
    await h.close();
  });
  afterEach(() => nock.cleanAll());

  const form = { provider: 'openai-compatible', baseUrl: `${BASE}/v1`, agentModel: 'm-agent', classifierModel: 'm-small', apiKey: KEY };

  it('says no model is set, then saves one after checking the key once; the key is never shown', async () => {
    const admin = await h.signIn(h.orgA, 'admin');
    expect((await h.get(admin, '/settings')).text).toContain('model_not_configured');
    nock(BASE, { reqheaders: { authorization: `Bearer ${KEY}` } })
      .get('/v1/models')
      .reply(200, models);
    const saved = await h.post(admin, '/settings/model', form);
    expect(saved.status).toBe(303);
    expect(nock.pendingMocks()).toEqual([]);
    const page = await h.get(admin, '/settings');
    expect(page.text).toContain('m-agent');
    expect(page.text).toContain('stored (never shown)');
    expect(page.text).not.toContain(KEY);
    const [secret] = await h.db.query<{ id: string }>("SELECT id FROM secrets WHERE org_id = $1 AND kind = 'ai_key'", [h.orgA]);
    expect(await h.vault.revealSecret(secret!.id, { actor: 'test', purpose: 'test' })).toBe(KEY);
    expect(JSON.stringify(await listAudit(h.db, { orgId: h.orgA, action: 'model_settings.save' }))).not.toContain(KEY);
    // Another org sees nothing of it.
    expect((await h.get(await h.signIn(h.orgB, 'owner'), '/settings')).text).not.toContain('m-agent');
  });

  it('says why a key was refused, and stores nothing', async () => {
    const admin = await h.signIn(h.orgB, 'admin');
    nock(BASE)
      .get('/v1/models')
      .reply(401, { error: { message: `bad key ${KEY}` } });
    const res = await h.post(admin, '/settings/model', form);
    expect(res.status).toBe(400);
    expect(res.text).toContain('The provider refused the API key');
    expect(res.text).not.toContain(KEY);
    expect(await h.db.query("SELECT id FROM secrets WHERE org_id = $1 AND kind = 'ai_key'", [h.orgB])).toEqual([]);
  });

  it('shows month-to-date usage and the caps; an admin sets caps, a member cannot', async () => {
    const member = await h.signIn(h.orgA, 'member');
    const page = await h.get(member, '/settings');
    expect(page.text).toContain('Usage and caps');
    expect(page.text).toContain(new Date().toISOString().slice(0, 7));
    expect(page.text).not.toContain('action="/settings/caps"');
    expect(page.text).not.toContain('action="/settings/model"');
    expect((await h.post(member, '/settings/caps', { monthlyCostCapUsd: '1' })).status).toBe(403);
    expect((await h.post(member, '/settings/model', form)).status).toBe(403);

    const admin = await h.signIn(h.orgA, 'admin');
    expect((await h.post(admin, '/settings/caps', { monthlyCostCapUsd: '-1' })).status).toBe(400);
    const saved = await h.post(admin, '/settings/caps', { monthlyCostCapUsd: '25', monthlyTokenCap: '1000000', runCostCapUsd: '2', runTokenCap: '200000' });
    expect(saved.status).toBe(303);
    const after = await h.get(admin, '/settings');
    expect(after.text).toContain('$25.00');
    expect(after.text).toContain('1,000,000 tokens');
    expect((await h.get(await h.signIn(h.orgB, 'owner'), '/settings')).text).not.toContain('$25.00');
  });
});
