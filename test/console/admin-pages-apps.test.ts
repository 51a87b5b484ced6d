import { SignJWT } from 'jose';
import { getApp, listAudit, upsertRepo } from '../../src/store/index.js';
import { openAdminHarness, textOf, type AdminHarness } from './admin-harness.js';

const count = async (h: AdminHarness, orgId: string) =>
  Number((await h.db.query<{ n: string }>('SELECT count(*)::text AS n FROM apps WHERE org_id = $1', [orgId]))[0]!.n);

describe('console App pages', () => {
  let h: AdminHarness;
  beforeAll(async () => {
    h = await openAdminHarness({ env: { DISCORD_APPLICATION_ID: '1234567', DISCORD_PUBLIC_KEY: 'ab'.repeat(32) } });
  });
  afterAll(async () => h.close());

  async function createAs(orgId: string, name = 'Shop') {
    const admin = await h.signIn(orgId, 'admin');
    const res = await h.post(admin, '/apps', { name, origins: 'https://shop.example\nhttp://localhost:5173/' });
    expect(res.status).toBe(201);
    const appId = /href="\/apps\/(app_[^"]+)"/.exec(res.text)![1]!;
    return { admin, res, appId };
  }

  it('an admin creates an App and sees its snippet with the pub_ key and the signing secret once', async () => {
    const { admin, res, appId } = await createAs(h.orgA);
    const app = (await getApp(h.db, appId))!;
    expect(app.origins).toEqual(['https://shop.example', 'http://localhost:5173']);
    expect(textOf(res.text, 'snippet')).toBe(`<script src="${h.publicUrl}/widget.js" data-userz-key="${app.publicKey}" async></script>`);
    expect(res.text).toContain('data-copy="snippet"');
    const secret = textOf(res.text, 'signing-secret')!;
    expect(secret).toMatch(/^uzsig_/);
    expect(await h.vault.revealSecret(app.signingSecretId!, { actor: 'test', purpose: 'test' })).toBe(secret);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const page = await h.get(admin, `/apps/${appId}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(app.publicKey);
    expect(page.text).not.toContain(secret);
    expect((await h.get(admin, '/apps')).text).toContain(`href="/apps/${appId}"`);
  });

  it('a member reads the Apps but gets a 403 page for every change, and nothing changes', async () => {
    const { appId } = await createAs(h.orgA, 'Members read');
    const member = await h.signIn(h.orgA, 'member');
    const list = await h.get(member, '/apps');
    expect(list.status).toBe(200);
    expect(list.text).not.toContain('action="/apps"');
    const before = await getApp(h.db, appId);
    const n = await count(h, h.orgA);
    for (const [path, fields] of [
      ['/apps', { name: 'Nope', origins: '' }],
      [`/apps/${appId}`, { name: 'Renamed', origins: 'https://evil.example' }],
      [`/apps/${appId}/rotate-secret`, {}],
      [`/apps/${appId}/link-code`, { provider: 'discord' }],
    ] as const) {
      const res = await h.post(member, path, fields);
      expect(res.status).toBe(403);
      expect(res.headers.get('content-type')).toContain('text/html');
    }
    expect(await count(h, h.orgA)).toBe(n);
    expect(await getApp(h.db, appId)).toEqual(before);
  });

  it('an admin edits origins and rotates the signing secret: the new one is shown once, the old one is gone', async () => {
    const { admin, res: created, appId } = await createAs(h.orgA, 'Rotate');
    const oldSecret = textOf(created.text, 'signing-secret')!;
    const oldSecretId = (await getApp(h.db, appId))!.signingSecretId!;
    const saved = await h.post(admin, `/apps/${appId}`, { name: 'Rotate 2', origins: 'https://new.example' });
    expect(saved.status).toBe(303);
    expect((await getApp(h.db, appId))!.origins).toEqual(['https://new.example']);
    const bad = await h.post(admin, `/apps/${appId}`, { name: 'Rotate 2', origins: 'https://new.example/path' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('must be scheme://host');

    const rotated = await h.post(admin, `/apps/${appId}/rotate-secret`, {});
    expect(rotated.status).toBe(200);
    const secret = textOf(rotated.text, 'signing-secret')!;
    expect(secret).toMatch(/^uzsig_/);
    expect(secret).not.toBe(oldSecret);
    const app = (await getApp(h.db, appId))!;
    expect(app.signingSecretId).not.toBe(oldSecretId);
    expect(await h.vault.revealSecret(app.signingSecretId!, { actor: 'test', purpose: 'test' })).toBe(secret);
    expect(await h.db.query('SELECT id FROM secrets WHERE id = $1', [oldSecretId])).toEqual([]);
    expect((await h.get(admin, `/apps/${appId}`)).text).not.toContain(secret);
    expect((await listAudit(h.db, { subject: appId, action: 'app.signing_secret_rotate' })).map((e) => e.actor)).toEqual([`user:${admin.userId}`]);
  });

  it('a rotation refuses user tokens signed with the old secret at once and accepts the new one', async () => {
    const { admin, res: created, appId } = await createAs(h.orgA, 'Private mode');
    const sign = (secret: string) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setAudience(appId)
        .setSubject('user-7')
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(new TextEncoder().encode(secret));
    const { publicKey } = (await getApp(h.db, appId))!;
    const report = async (token: string) =>
      (
        await fetch(`${h.url}/api/v1/reports`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-userz-key': publicKey, origin: 'https://shop.example', 'x-userz-user-token': token },
          body: JSON.stringify({ text: 'It broke' }),
        })
      ).status;
    const oldToken = await sign(textOf(created.text, 'signing-secret')!);
    expect(await report(oldToken)).toBe(201);
    const rotated = await h.post(admin, `/apps/${appId}/rotate-secret`, {});
    expect(await report(oldToken)).toBe(401);
    expect(await report(await sign(textOf(rotated.text, 'signing-secret')!))).toBe(201);
  });

  it("links an App to one of its org's repositories, never to another org's", async () => {
    const { admin, appId } = await createAs(h.orgA, 'Linked');
    const mine = await upsertRepo(
      h.db,
      { orgId: h.orgA, forge: 'gitlab', externalId: '501', fullName: 'acme/linked', baseUrl: 'https://gitlab.example.com' },
      'test',
    );
    const theirs = await upsertRepo(
      h.db,
      { orgId: h.orgB, forge: 'gitlab', externalId: '502', fullName: 'bravo/secret', baseUrl: 'https://gitlab.example.com' },
      'test',
    );
    const page = await h.get(admin, `/apps/${appId}`);
    expect(page.text).toContain('acme/linked (gitlab)');
    expect(page.text).not.toContain('bravo/secret');
    expect((await h.post(admin, `/apps/${appId}`, { name: 'Linked', origins: '', repoId: theirs.id })).status).toBe(404);
    expect((await getApp(h.db, appId))!.repoId).toBeNull();
    expect((await h.post(admin, `/apps/${appId}`, { name: 'Linked', origins: '', repoId: mine.id })).status).toBe(303);
    expect((await getApp(h.db, appId))!.repoId).toBe(mine.id);
    expect((await h.post(admin, `/apps/${appId}`, { name: 'Linked', origins: '' })).status).toBe(303);
    expect((await getApp(h.db, appId))!.repoId).toBe(mine.id);
    expect((await h.post(admin, `/apps/${appId}`, { name: 'Linked', origins: '', repoId: '' })).status).toBe(303);
    expect((await getApp(h.db, appId))!.repoId).toBeNull();
  });

  it('gives a Discord link code once, with the command to send', async () => {
    const { admin, appId } = await createAs(h.orgA, 'Chat');
    const res = await h.post(admin, `/apps/${appId}/link-code`, { provider: 'discord' });
    expect(res.status).toBe(201);
    expect(textOf(res.text, 'link-command')).toMatch(/^\/userz link code:UZL(-[A-Z2-7]{4}){5}$/);
    const slack = await h.post(admin, `/apps/${appId}/link-code`, { provider: 'slack' });
    expect(slack.status).toBe(409);
    expect(slack.text).toContain('Slack is not configured');
  });

  it("is 404 for another org's App on every page and action, and nothing changes", async () => {
    const { appId } = await createAs(h.orgA, 'Private');
    const before = await getApp(h.db, appId);
    const intruder = await h.signIn(h.orgB, 'owner');
    expect((await h.get(intruder, `/apps/${appId}`)).status).toBe(404);
    expect((await h.get(intruder, '/apps')).text).not.toContain(appId);
    for (const [path, fields] of [
      [`/apps/${appId}`, { name: 'Mine now', origins: 'https://evil.example' }],
      [`/apps/${appId}/rotate-secret`, {}],
      [`/apps/${appId}/link-code`, { provider: 'discord' }],
      [`/apps/${appId}/unlink`, { provider: 'discord' }],
    ] as const) {
      expect((await h.post(intruder, path, fields)).status).toBe(404);
    }
    expect(await getApp(h.db, appId)).toEqual(before);
    expect(await h.db.query('SELECT 1 FROM chat_link_codes WHERE app_id = $1', [appId])).toEqual([]);
  });

  it('refuses a form without the CSRF token or from another origin with 403, and creates nothing', async () => {
    const admin = await h.signIn(h.orgA, 'owner');
    const n = await count(h, h.orgA);
    expect((await h.post(admin, '/apps', { name: 'X', origins: '', _csrf: '' })).status).toBe(403);
    expect((await h.post(admin, '/apps', { name: 'X', origins: '' }, { origin: 'https://evil.example' })).status).toBe(403);
    expect(await count(h, h.orgA)).toBe(n);
  });

  it('escapes an App name everywhere it is shown', async () => {
    const { admin, appId } = await createAs(h.orgA, '<img src=x onerror=alert(1)>');
    for (const path of ['/apps', `/apps/${appId}`]) {
      const page = await h.get(admin, path);
      expect(page.text).not.toContain('<img src=x');
      expect(page.text).toContain('&lt;img src=x onerror=alert(1)&gt;');
    }
  });
});

describe('console App page with Slack OAuth configured', () => {
  let h: AdminHarness;
  beforeAll(async () => {
    h = await openAdminHarness({
      env: { SLACK_SIGNING_SECRET: 'slack-signing-secret-0123', SLACK_CLIENT_ID: '123.456', SLACK_CLIENT_SECRET: 'slack-client-secret' },
    });
  });
  afterAll(async () => h.close());

  it('shows owners and admins the Add to Slack button with a signed install link for this App, and members none', async () => {
    const admin = await h.signIn(h.orgA, 'admin');
    const created = await h.post(admin, '/apps', { name: 'Slack shop', origins: '' });
    const appId = /href="\/apps\/(app_[^"]+)"/.exec(created.text)![1]!;
    const page = await h.get(admin, `/apps/${appId}`);
    const link = /<a class="button" href="([^"]+)">Add to Slack<\/a>/.exec(page.text)![1]!.replace(/&amp;/g, '&');
    expect(link.startsWith(`${h.publicUrl}/slack/install?ticket=`)).toBe(true);
    const install = await fetch(`${h.url}${new URL(link).pathname}${new URL(link).search}`, { redirect: 'manual' });
    expect(install.status).toBe(302);
    expect(install.headers.get('location')).toMatch(/^https:\/\/slack\.com\/oauth\/v2\/authorize\?client_id=123\.456/);
    expect((await h.get(await h.signIn(h.orgA, 'member'), `/apps/${appId}`)).text).not.toContain('Add to Slack');
    expect(page.text).not.toContain('Get a Slack link code');
  });
});
