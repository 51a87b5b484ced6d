import { createApp } from '../../src/intake/index.js';
import { getApp, getRetentionSettings, listAudit } from '../../src/store/index.js';
import { openAdminHarness, type AdminHarness } from './admin-harness.js';

const ORIGIN = 'https://shop.example';

describe('console settings: retention and deletion on request', () => {
  let h: AdminHarness;
  beforeAll(async () => {
    h = await openAdminHarness();
  });
  afterAll(async () => h.close());

  async function report(publicKey: string, email: string, text: string): Promise<string> {
    const res = await fetch(`${h.url}/api/v1/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-userz-key': publicKey, origin: ORIGIN },
      body: JSON.stringify({ text, reporter: { email } }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  }
  const reportsOf = async (orgId: string) =>
    (await h.db.query<{ id: string }>('SELECT id FROM reports WHERE org_id = $1 ORDER BY id', [orgId])).map((r) => r.id);

  it('an admin sets the org retention and an App to keep its blobs; a member only reads them', async () => {
    const { app } = await createApp(h.db, h.vault, { orgId: h.orgA, name: 'Kept', origins: [], actor: 'test' });
    const member = await h.signIn(h.orgA, 'member');
    const page = await h.get(member, '/settings');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<strong>30 days</strong>');
    expect(page.text).not.toContain('action="/settings/retention"');
    expect(page.text).not.toContain('action="/settings/erase"');
    expect((await h.post(member, '/settings/retention', { days: '7' })).status).toBe(403);

    const admin = await h.signIn(h.orgA, 'admin');
    expect((await h.post(admin, '/settings/retention', { days: '0' })).status).toBe(400);
    expect((await h.post(admin, '/settings/retention', { days: '90' })).status).toBe(303);
    expect((await h.post(admin, '/settings/app-retention', { appId: app.id, retained: 'true' })).status).toBe(303);
    expect(await getRetentionSettings(h.db, h.orgA)).toMatchObject({ days: 90, apps: expect.arrayContaining([{ id: app.id, retained: true }]) });
    expect((await listAudit(h.db, { orgId: h.orgA, action: 'org.retention_set' })).map((e) => e.actor)).toEqual([`user:${admin.userId}`]);
    expect((await h.get(admin, '/settings')).text).not.toContain('action="/settings/erase"'); // admins do not delete

    const intruder = await h.signIn(h.orgB, 'owner');
    expect((await h.post(intruder, '/settings/app-retention', { appId: app.id, retained: 'false' })).status).toBe(404);
    expect((await getRetentionSettings(h.db, h.orgA))!.apps).toContainEqual({ id: app.id, retained: true });
  });

  it('deletes one reporter for an owner after the typed confirmation, audited with counts only', async () => {
    const { app, publicKey } = await createApp(h.db, h.vault, { orgId: h.orgA, name: 'Shop', origins: [ORIGIN], actor: 'test' });
    const gone = await report(publicKey, 'ada@example.com', 'Ada cannot pay');
    const stays = await report(publicKey, 'bob@example.com', 'Bob cannot log in');
    const admin = await h.signIn(h.orgA, 'admin');
    expect((await h.post(admin, '/settings/erase', { kind: 'reporter', reporter: 'ada@example.com', confirm: 'ada@example.com' })).status).toBe(403);
    const owner = await h.signIn(h.orgA, 'owner');
    const wrong = await h.post(owner, '/settings/erase', { kind: 'reporter', reporter: 'ada@example.com', confirm: 'ada' });
    expect(wrong.status).toBe(400);
    expect(wrong.text).toContain('nothing was deleted');
    expect(await reportsOf(h.orgA)).toEqual(expect.arrayContaining([gone, stays]));
    const noCsrf = await h.post(owner, '/settings/erase', { kind: 'reporter', reporter: 'ada@example.com', confirm: 'ada@example.com', _csrf: '' });
    expect(noCsrf.status).toBe(403);

    const done = await h.post(owner, '/settings/erase', { kind: 'reporter', reporter: 'ada@example.com', confirm: 'ada@example.com' });
    expect(done.status).toBe(200);
    expect(done.text).toContain('Deleted');
    const left = await reportsOf(h.orgA);
    expect(left).toContain(stays);
    expect(left).not.toContain(gone);
    const [event] = await listAudit(h.db, { orgId: h.orgA, action: 'data.deleted' });
    expect(event).toMatchObject({ actor: `user:${owner.userId}`, data: expect.objectContaining({ subjectKind: 'reporter', reports: 1 }) });
    expect(JSON.stringify(event)).not.toContain('ada@example.com');
    expect(await getApp(h.db, app.id)).not.toBeNull();
  });

  it("refuses another org's App (404) and deletes only the owner's own org", async () => {
    const a = await createApp(h.db, h.vault, { orgId: h.orgA, name: 'A shop', origins: [ORIGIN], actor: 'test' });
    const b = await createApp(h.db, h.vault, { orgId: h.orgB, name: 'B shop', origins: [ORIGIN], actor: 'test' });
    const inA = await report(a.publicKey, 'cy@example.com', 'A report');
    const inB = await report(b.publicKey, 'cy@example.com', 'B report');
    const ownerB = await h.signIn(h.orgB, 'owner');
    expect((await h.post(ownerB, '/settings/erase', { kind: 'app', appId: a.app.id, confirm: 'A shop' })).status).toBe(404);
    expect(await getApp(h.db, a.app.id)).not.toBeNull();

    // An org deletion names no id: it is always the signed-in member's own org.
    expect((await h.post(ownerB, '/settings/erase', { kind: 'org', orgId: h.orgA, confirm: 'Acme' })).status).toBe(400);
    const done = await h.post(ownerB, '/settings/erase', { kind: 'org', orgId: h.orgA, confirm: 'Bravo' });
    expect(done.status).toBe(200);
    expect(await reportsOf(h.orgB)).toEqual([]);
    expect(await h.db.query('SELECT id FROM orgs WHERE id = $1', [h.orgB])).toEqual([]);
    expect(await reportsOf(h.orgA)).toContain(inA);
    expect(await getApp(h.db, a.app.id)).not.toBeNull();
    expect(inB).toMatch(/^rep_/);
  });
});
