import { listAudit, listMemberships } from '../../src/store/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestOrg, DB_KINDS } from '../helpers/db.js';
import { csrfTokenOf, outboxLink, postForm, signedInMember, type SignedInMember } from '../helpers/console-session.js';

// Orgs and members (issue 13): invites (single use, 7 days), roles, the last owner, and a
// member of org B trying org A's member and invite ids (404, nothing changes).
describe.each(DB_KINDS)('members and invites on %s', (kind) => {
  let app: TestApp;
  let orgA: string;
  let orgB: string;
  let ownerA: SignedInMember;
  let memberA: SignedInMember;
  let ownerB: SignedInMember;

  beforeAll(async () => {
    app = await startTestApp({ db: kind });
    orgA = await createTestOrg(app.deps.store.db, app.deps.vault, 'Org A');
    orgB = await createTestOrg(app.deps.store.db, app.deps.vault, 'Org B');
    ownerA = await signedInMember(app, { orgId: orgA, role: 'owner', email: 'owner-a@example.test' });
    memberA = await signedInMember(app, { orgId: orgA, role: 'member', email: 'member-a@example.test' });
    ownerB = await signedInMember(app, { orgId: orgB, role: 'owner', email: 'owner-b@example.test' });
  });
  afterAll(async () => app.close());

  const get = (path: string, cookie: string) => fetch(`${app.url}${path}`, { headers: { cookie }, redirect: 'manual' });
  const roleIn = async (orgId: string, userId: string) => (await listMemberships(app.deps.store.db, userId)).find((m) => m.orgId === orgId)?.role;
  const invites = (orgId: string) =>
    app.deps.store.db.query<{ id: string; email: string; accepted_at: Date | null }>(
      'SELECT id, email, accepted_at FROM org_invites WHERE org_id = $1 ORDER BY created_at',
      [orgId],
    );

  async function invite(by: SignedInMember, email: string, role: string): Promise<string> {
    const r = await postForm(app, '/members/invite', { _csrf: by.csrfToken, email, role }, { cookie: by.cookie });
    expect(r.status).toBe(303);
    return new URL(await outboxLink(app, email, '/invites/')).pathname;
  }

  it('lists only the org’s own members, with labelled controls for owners', async () => {
    const page = await (await get('/members', ownerA.cookie)).text();
    expect(page).toContain('member-a@example.test');
    expect(page).not.toContain('owner-b@example.test');
    expect(page).toContain(`<label for="role-${memberA.userId}">`);
    expect(page).toContain('<label for="f-email">');
  });

  it('invites by email; the invitee signs up with that address and accepts once; the link is single-use', async () => {
    const path = await invite(ownerA, 'new-admin@example.test', 'admin');
    const signedOut = await fetch(`${app.url}${path}`, { redirect: 'manual' });
    expect(signedOut.status).toBe(200);
    expect(await signedOut.text()).toContain(`/sign-up?next=${encodeURIComponent(path)}`);

    const invitee = await signedInMember(app, { email: 'new-admin@example.test' });
    const landing = await get(path, invitee.cookie);
    expect(await landing.text()).toContain('Join Org A');
    const accept = await postForm(app, path, { _csrf: invitee.csrfToken }, { cookie: invitee.cookie });
    expect(accept.status).toBe(303);
    expect(await roleIn(orgA, invitee.userId)).toBe('admin');

    const again = await postForm(app, path, { _csrf: invitee.csrfToken }, { cookie: invitee.cookie });
    expect(again.status).toBe(410);
    expect(await again.text()).toContain('data-code="invite_used"');
    const other = await signedInMember(app, { email: 'someone-else@example.test' });
    expect((await postForm(app, path, { _csrf: other.csrfToken }, { cookie: other.cookie })).status).toBe(410);
    expect(await roleIn(orgA, other.userId)).toBeUndefined();
    expect((await get(path, other.cookie)).status).toBe(410);

    const actions = (await listAudit(app.deps.store.db, { orgId: orgA })).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['invite.create', 'invite.accept', 'member.add']));
  });

  it('refuses an expired invite and one for another address; nobody joins', async () => {
    const path = await invite(ownerA, 'late@example.test', 'member');
    const late = await signedInMember(app, { email: 'late@example.test' });
    await app.deps.store.db.query(`UPDATE org_invites SET expires_at = now() - interval '1 second' WHERE email = 'late@example.test'`);
    const r = await postForm(app, path, { _csrf: late.csrfToken }, { cookie: late.cookie });
    expect(r.status).toBe(410);
    expect(await r.text()).toContain('data-code="invite_expired"');
    expect(await roleIn(orgA, late.userId)).toBeUndefined();

    const path2 = await invite(ownerA, 'right@example.test', 'member');
    const wrong = await signedInMember(app, { email: 'wrong@example.test' });
    expect((await postForm(app, path2, { _csrf: wrong.csrfToken }, { cookie: wrong.cookie })).status).toBe(403);
    expect(await roleIn(orgA, wrong.userId)).toBeUndefined();
  });

  it('gives invites a 7-day expiry', async () => {
    await invite(ownerA, 'week@example.test', 'member');
    const [row] = await app.deps.store.db.query<{ days: number }>(
      `SELECT extract(epoch FROM expires_at - created_at) / 86400 AS days FROM org_invites WHERE email = 'week@example.test'`,
    );
    expect(Math.round(Number(row!.days))).toBe(7);
  });

  it('answers org B’s owner 404 on every org A member and invite id, and changes nothing', async () => {
    const path = await invite(ownerA, 'pending-a@example.test', 'member');
    const pending = (await invites(orgA)).find((i) => i.email === 'pending-a@example.test')!;
    const auditBefore = (await listAudit(app.deps.store.db, { orgId: orgA })).length;
    const attempts: Array<[string, Record<string, string>]> = [
      [`/members/${memberA.userId}/role`, { role: 'owner' }],
      [`/members/${memberA.userId}/remove`, {}],
      [`/members/${ownerA.userId}/role`, { role: 'member' }],
      [`/members/${ownerA.userId}/remove`, {}],
      [`/members/invites/${pending.id}/revoke`, {}],
    ];
    for (const [p, form] of attempts) {
      const r = await postForm(app, p, { _csrf: ownerB.csrfToken, ...form }, { cookie: ownerB.cookie });
      expect([p, r.status]).toEqual([p, 404]);
    }
    expect(await roleIn(orgA, memberA.userId)).toBe('member');
    expect(await roleIn(orgA, ownerA.userId)).toBe('owner');
    expect((await invites(orgA)).find((i) => i.id === pending.id)).toBeDefined();
    expect((await listAudit(app.deps.store.db, { orgId: orgA })).length).toBe(auditBefore);
    // Org B's members page shows none of org A's people or invites.
    const page = await (await get('/members', ownerB.cookie)).text();
    expect(page).not.toContain('member-a@example.test');
    expect(page).not.toContain('pending-a@example.test');
    // The invite itself still works for its addressee.
    expect((await fetch(`${app.url}${path}`, { redirect: 'manual' })).status).toBe(200);
  });

  it('never removes or demotes the last owner; an owner can hand over first', async () => {
    const demote = await postForm(app, `/members/${ownerA.userId}/role`, { _csrf: ownerA.csrfToken, role: 'admin' }, { cookie: ownerA.cookie });
    expect(demote.status).toBe(409);
    expect(await demote.text()).toContain('data-code="last_owner"');
    const remove = await postForm(app, `/members/${ownerA.userId}/remove`, { _csrf: ownerA.csrfToken }, { cookie: ownerA.cookie });
    expect(remove.status).toBe(409);
    expect(await roleIn(orgA, ownerA.userId)).toBe('owner');

    const second = await signedInMember(app, { orgId: orgA, role: 'admin', email: 'second-owner@example.test' });
    expect((await postForm(app, `/members/${second.userId}/role`, { _csrf: ownerA.csrfToken, role: 'owner' }, { cookie: ownerA.cookie })).status).toBe(303);
    expect((await postForm(app, `/members/${ownerA.userId}/role`, { _csrf: ownerA.csrfToken, role: 'admin' }, { cookie: ownerA.cookie })).status).toBe(303);
    expect(await roleIn(orgA, ownerA.userId)).toBe('admin');
    const actions = (await listAudit(app.deps.store.db, { orgId: orgA, action: 'member.role' })).map((e) => e.subject);
    expect(actions).toEqual([`user:${second.userId}`, `user:${ownerA.userId}`]);
    // Put it back for the other tests.
    await app.deps.store.db.query(`UPDATE org_members SET role = 'owner' WHERE org_id = $1 AND user_id = $2`, [orgA, ownerA.userId]);
  });

  it('lets only owners and admins manage members, and only owners grant the owner role', async () => {
    const asMember = await postForm(app, '/members/invite', { _csrf: memberA.csrfToken, email: 'x@example.test', role: 'member' }, { cookie: memberA.cookie });
    expect(asMember.status).toBe(403);
    const admin = await signedInMember(app, { orgId: orgA, role: 'admin', email: 'admin-a@example.test' });
    const grant = await postForm(app, `/members/${memberA.userId}/role`, { _csrf: admin.csrfToken, role: 'owner' }, { cookie: admin.cookie });
    expect(grant.status).toBe(403);
    const inviteOwner = await postForm(app, '/members/invite', { _csrf: admin.csrfToken, email: 'y@example.test', role: 'owner' }, { cookie: admin.cookie });
    expect(inviteOwner.status).toBe(403);
    expect((await invites(orgA)).some((i) => i.email === 'x@example.test' || i.email === 'y@example.test')).toBe(false);
    expect(await roleIn(orgA, memberA.userId)).toBe('member');
    // An admin removes a member.
    const gone = await signedInMember(app, { orgId: orgA, role: 'member', email: 'leaving@example.test' });
    expect((await postForm(app, `/members/${gone.userId}/remove`, { _csrf: admin.csrfToken }, { cookie: admin.cookie })).status).toBe(303);
    expect(await roleIn(orgA, gone.userId)).toBeUndefined();
  });

  it('refuses a cross-site invite post (foreign Origin) and creates no invite', async () => {
    const before = (await invites(orgA)).length;
    const r = await postForm(
      app,
      '/members/invite',
      { _csrf: ownerA.csrfToken, email: 'csrf@example.test', role: 'admin' },
      { cookie: ownerA.cookie, origin: 'https://attacker.example' },
    );
    expect(r.status).toBe(403);
    expect(await r.text()).toContain('data-code="csrf_failed"');
    expect((await invites(orgA)).length).toBe(before);
    // The token alone is not enough either way: a same-origin post without it fails too.
    expect((await postForm(app, '/members/invite', { email: 'csrf@example.test', role: 'admin' }, { cookie: ownerA.cookie })).status).toBe(403);
    expect(await csrfTokenOf(app, ownerA.cookie)).toBe(ownerA.csrfToken);
  });

  it('switches orgs only among the user’s memberships; a forged userz_org cookie falls back to the first', async () => {
    const both = await signedInMember(app, { orgId: orgA, role: 'member', email: `both-${kind}@example.test` });
    await app.deps.store.db.query(`INSERT INTO org_members (org_id, user_id, role) VALUES ($1, $2, 'member')`, [orgB, both.userId]);
    const header = async (cookie: string) => /<span class="org">([^<]+)<\/span>/.exec(await (await get('/members', cookie)).text())?.[1];
    expect(await header(both.cookie)).toBe('Org A');
    const sw = await postForm(app, '/account/org', { _csrf: both.csrfToken, orgId: orgB }, { cookie: both.cookie });
    expect(sw.status).toBe(303);
    const orgCookie = sw.headers.getSetCookie().find((c) => c.startsWith('userz_org='))!;
    expect(orgCookie).toMatch(/HttpOnly/);
    expect(await header(`${both.cookie}; ${orgCookie.split(';')[0]}`)).toBe('Org B');
    // memberA is not in org B: the cookie cannot put them there, the form refuses.
    expect(await header(`${memberA.cookie}; userz_org=${orgB}`)).toBe('Org A');
    expect((await postForm(app, '/account/org', { _csrf: memberA.csrfToken, orgId: orgB }, { cookie: memberA.cookie })).status).toBe(404);
  });
});
