import { getApiKey } from '../../src/store/index.js';
import { openAdminHarness, textOf, type AdminHarness } from './admin-harness.js';

const keysOf = async (h: AdminHarness, orgId: string) =>
  Number((await h.db.query<{ n: string }>('SELECT count(*)::text AS n FROM api_keys WHERE org_id = $1', [orgId]))[0]!.n);

describe('console API key pages', () => {
  let h: AdminHarness;
  beforeAll(async () => {
    h = await openAdminHarness();
  });
  afterAll(async () => h.close());

  async function create(orgId: string, scopes: string[], role: 'admin' | 'owner' = 'admin', label = 'CI') {
    const who = await h.signIn(orgId, role);
    const res = await h.post(who, '/api-keys', { label, scopes });
    return { who, status: res.status, text: res.text };
  }

  it('an admin creates a scoped key shown once; it works with exactly those scopes and the list shows only its prefix', async () => {
    const { who, status, text } = await create(h.orgA, ['read', 'write'], 'admin', 'Status <board>');
    expect(status).toBe(201);
    const key = textOf(text, 'api-key')!;
    expect(key).toMatch(/^sk_/);
    const verified = await h.apiKeys.verify(key, '127.0.0.1');
    expect(verified).toMatchObject({ orgId: h.orgA, scopes: ['read', 'write'] });
    const list = await h.get(who, '/api-keys');
    expect(list.status).toBe(200);
    expect(list.text).not.toContain(key);
    expect(list.text).toContain(`sk_${verified.prefix}_…`);
    expect(list.text).toContain('Status &lt;board&gt;');
    // Used once (the verify above): its last use is shown, not "never".
    expect(list.text).not.toContain('<span class="muted">never</span>');
    expect((await getApiKey(h.db, h.orgA, verified.id))!.lastUsedAt).toBeInstanceOf(Date);
  });

  it('an admin cannot mint an admin key (it would include deletion); an owner can', async () => {
    const n = await keysOf(h, h.orgA);
    const refused = await create(h.orgA, ['read', 'admin'], 'admin');
    expect(refused.status).toBe(403);
    expect(await keysOf(h, h.orgA)).toBe(n);
    const owner = await create(h.orgA, ['admin'], 'owner');
    expect(owner.status).toBe(201);
    expect((await h.apiKeys.verify(textOf(owner.text, 'api-key')!, '127.0.0.1')).scopes).toEqual(['admin']);
  });

  it('a member gets a 403 page for the key list and for creating one', async () => {
    const member = await h.signIn(h.orgA, 'member');
    const n = await keysOf(h, h.orgA);
    expect((await h.get(member, '/api-keys')).status).toBe(403);
    expect((await h.post(member, '/api-keys', { label: 'x', scopes: 'read' })).status).toBe(403);
    expect(await keysOf(h, h.orgA)).toBe(n);
  });

  it('revokes a key: refused on its next request', async () => {
    const { who, text } = await create(h.orgA, ['read']);
    const key = textOf(text, 'api-key')!;
    const { id } = await h.apiKeys.verify(key, '127.0.0.1');
    const res = await h.post(who, `/api-keys/${id}/revoke`, {});
    expect(res.status).toBe(303);
    await expect(h.apiKeys.verify(key, '127.0.0.1')).rejects.toMatchObject({ code: 'invalid_api_key' });
    expect((await h.get(who, '/api-keys')).text).toContain('revoked');
  });

  it("is 404 for revoking another org's key, which keeps working; CSRF missing is 403", async () => {
    const { text } = await create(h.orgA, ['read']);
    const key = textOf(text, 'api-key')!;
    const { id } = await h.apiKeys.verify(key, '127.0.0.1');
    const intruder = await h.signIn(h.orgB, 'owner');
    expect((await h.post(intruder, `/api-keys/${id}/revoke`, {})).status).toBe(404);
    expect((await h.get(intruder, '/api-keys')).text).not.toContain(id);
    const owner = await h.signIn(h.orgA, 'owner');
    expect((await h.post(owner, `/api-keys/${id}/revoke`, { _csrf: 'forged' })).status).toBe(403);
    expect((await getApiKey(h.db, h.orgA, id))!.revokedAt).toBeNull();
    expect((await h.apiKeys.verify(key, '127.0.0.1')).id).toBe(id);
  });
});
