import { insertWebhookAttempt, listAudit } from '../../src/store/index.js';
import { openAdminHarness, textOf, type AdminHarness } from './admin-harness.js';

describe('console settings: webhook endpoints and their delivery log', () => {
  let h: AdminHarness;
  beforeAll(async () => {
    h = await openAdminHarness();
  });
  afterAll(async () => h.close());

  async function createEndpoint(orgId: string, url = 'https://hooks.example.com/userz') {
    const admin = await h.signIn(orgId, 'admin');
    const res = await h.post(admin, '/settings/webhooks', { url, events: ['run.pr_opened', 'report.received'] });
    const text = res.text;
    const [row] = await h.db.query<{ id: string; secret_id: string }>(
      'SELECT id, secret_id FROM webhook_endpoints WHERE org_id = $1 ORDER BY created_at DESC LIMIT 1',
      [orgId],
    );
    return { admin, status: res.status, text, id: row?.id, secretId: row?.secret_id };
  }

  it('an admin registers an endpoint: the signing secret is shown once and then only its URL and events', async () => {
    const { admin, status, text, id, secretId } = await createEndpoint(h.orgA);
    expect(status).toBe(201);
    const secret = textOf(text, 'webhook-signing-secret')!;
    expect(await h.vault.revealSecret(secretId!, { actor: 'test', purpose: 'test' })).toBe(secret);
    const settings = await h.get(admin, '/settings');
    expect(settings.text).toContain('https://hooks.example.com/userz');
    expect(settings.text).toContain(`href="/settings/webhooks/${id}"`);
    expect(settings.text).not.toContain(secret);
    expect((await listAudit(h.db, { subject: id, action: 'webhook_endpoint.create' })).map((e) => e.actor)).toEqual([`user:${admin.userId}`]);
  });

  it('refuses a private address and a member, creating nothing', async () => {
    const before = (await h.db.query('SELECT id FROM webhook_endpoints')).length;
    expect((await createEndpoint(h.orgA, 'https://10.0.0.1/hook')).status).toBe(400);
    const member = await h.signIn(h.orgA, 'member');
    expect((await h.post(member, '/settings/webhooks', { url: 'https://hooks.example.com/m', events: 'run.pr_opened' })).status).toBe(403);
    expect((await h.get(member, '/settings')).text).not.toContain('action="/settings/webhooks"');
    expect((await h.db.query('SELECT id FROM webhook_endpoints')).length).toBe(before);
  });

  it('shows the delivery log with each attempt, escaped', async () => {
    const { admin, id } = await createEndpoint(h.orgA, 'https://hooks.example.com/log');
    const common = { orgId: h.orgA, endpointId: id!, deliveryId: 'dlv_1', eventId: 'evt_1', eventType: 'run.pr_opened' };
    await insertWebhookAttempt(h.db, { ...common, attempt: 1, statusCode: 500, error: '<b>upstream</b> failed', delivered: false, final: false });
    await insertWebhookAttempt(h.db, { ...common, attempt: 2, statusCode: 200, error: null, delivered: true, final: true });
    const log = await h.get(admin, `/settings/webhooks/${id}`);
    expect(log.status).toBe(200);
    expect(log.text).toContain('dlv_1');
    expect(log.text).toContain('delivered');
    expect(log.text).toContain('will retry');
    expect(log.text).toContain('&lt;b&gt;upstream&lt;/b&gt; failed');
    expect(log.text.indexOf('HTTP 200')).toBeLessThan(log.text.indexOf('HTTP 500'));
  });

  it("is 404 for another org's endpoint log and deletion, which leaves it in place; an admin deletes their own", async () => {
    const { admin, id } = await createEndpoint(h.orgA, 'https://hooks.example.com/mine');
    const intruder = await h.signIn(h.orgB, 'owner');
    expect((await h.get(intruder, `/settings/webhooks/${id}`)).status).toBe(404);
    expect((await h.post(intruder, `/settings/webhooks/${id}/delete`, {})).status).toBe(404);
    expect((await h.get(intruder, '/settings')).text).not.toContain('hooks.example.com/mine');
    expect((await h.post(admin, `/settings/webhooks/${id}/delete`, { _csrf: '' })).status).toBe(403);
    expect((await h.get(admin, '/settings')).text).toContain('hooks.example.com/mine');
    expect((await h.post(admin, `/settings/webhooks/${id}/delete`, {})).status).toBe(303);
    expect((await h.get(admin, '/settings')).text).not.toContain('hooks.example.com/mine');
  });
});
