import nock from 'nock';
import project from '../fixtures/forge/gitlab-project.json' with { type: 'json' };
import tokenSelf from '../fixtures/forge/gitlab-token-self.json' with { type: 'json' };
import { findRepo, linkInstallationToOrg, recordRepoPolicy, upsertRepo } from '../../src/store/index.js';
import { openAdminHarness, textOf, type AdminHarness } from './admin-harness.js';

const HOST = 'https://gitlab.example.com';
const TOKEN = 'glpat-console-0001';
const json = { 'content-type': 'application/json' };

describe('console repositories page', () => {
  let h: AdminHarness;
  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect((host) => host.startsWith('127.0.0.1'));
    h = await openAdminHarness({ github: true, env: { GITHUB_APP_SLUG: 'userz-test', GITHUB_CLIENT_ID: 'Iv1.test', GITHUB_CLIENT_SECRET: 'client-secret' } });
    await upsertRepo(h.db, { forge: 'github', externalId: '9001', fullName: 'acme/shop', installationId: 77, defaultBranch: 'trunk' }, 'test');
    await h.db.transaction((tx) => linkInstallationToOrg(tx, { installationId: 77, orgId: h.orgA, actor: 'cli', allowMove: false }));
  });
  afterAll(async () => {
    nock.enableNetConnect();
    await h.close();
  });
  afterEach(() => nock.cleanAll());

  it('shows the org its installations and repositories with the policy not read yet, and another org nothing', async () => {
    const member = await h.signIn(h.orgA, 'member');
    const page = await h.get(member, '/repos');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Installation <span class="mono">77</span>');
    expect(page.text).toContain('acme/shop');
    expect(page.text).toContain('Not read yet: a run reads <code>.userz.yml</code> from <code>trunk</code>');
    expect(page.text).not.toContain('Install on GitHub');
    const other = await h.get(await h.signIn(h.orgB, 'owner'), '/repos');
    expect(other.text).not.toContain('acme/shop');
    expect(other.text).not.toContain('>77<');
  });

  it('shows the policy as the last run read it from the default branch, escaped, with its commit and time; another org sees none of it', async () => {
    const repo = (await findRepo(h.db, 'github', '9001'))!;
    const text = `setup:\n  - npm ci\n# <script>alert('xss-policy')</script>\n`;
    const older = new Date('2026-12-01T10:00:00Z');
    await recordRepoPolicy(h.db, { repoId: repo.id, orgId: h.orgA, baseCommit: 'a'.repeat(40), policyText: 'old: true\n', readAt: older });
    await recordRepoPolicy(h.db, {
      repoId: repo.id,
      orgId: h.orgA,
      baseCommit: '0123456789abcdef0123',
      policyText: text,
      readAt: new Date('2026-12-02T04:00:00Z'),
    });
    // A read that finished later but is older does not replace the newer snapshot.
    await recordRepoPolicy(h.db, { repoId: repo.id, orgId: h.orgA, baseCommit: 'b'.repeat(40), policyText: 'stale: true\n', readAt: older });
    const member = await h.signIn(h.orgA, 'member');
    const page = await h.get(member, '/repos');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Read from <code>trunk</code>');
    expect(page.text).toContain('at commit <span class="mono">0123456789ab</span>');
    expect(page.text).toContain('2026-12-02');
    expect(page.text).toContain('# &lt;script&gt;alert(&#39;xss-policy&#39;)&lt;/script&gt;');
    expect(page.text).not.toContain("<script>alert('xss-policy')");
    expect(page.text).not.toContain('stale: true');
    expect(page.text).not.toContain('Not read yet');
    const other = await h.get(await h.signIn(h.orgB, 'owner'), '/repos');
    expect(other.text).not.toContain('xss-policy');
    expect(other.text).not.toContain('0123456789ab');
    await recordRepoPolicy(h.db, { repoId: repo.id, orgId: h.orgA, baseCommit: 'c'.repeat(40), policyText: null });
    const none = await h.get(member, '/repos');
    expect(none.text).toContain('No <code>.userz.yml</code>: the default rules apply.');
    expect(none.text).toContain('cccccccccccc');
  });

  it('gives an admin a single-use GitHub install link for the org; a member gets 403', async () => {
    const member = await h.signIn(h.orgA, 'member');
    expect((await h.post(member, '/repos/github-install-link', {})).status).toBe(403);
    const admin = await h.signIn(h.orgA, 'admin');
    const res = await h.post(admin, '/repos/github-install-link', {});
    expect(res.status).toBe(201);
    expect(res.text).toMatch(/href="https:\/\/github\.com\/apps\/userz-test\/installations\/new\?state=v1\.[^"]+"/);
    const [state] = await h.db.query<{ org_id: string; created_by: string }>('SELECT org_id, created_by FROM github_install_states');
    expect(state).toMatchObject({ org_id: h.orgA, created_by: `user:${admin.userId}` });
  });

  it('adds a GitLab project with a token checked once and stored only encrypted; the webhook secret is shown once', async () => {
    nock(HOST, { reqheaders: { 'private-token': TOKEN } })
      .get('/api/v4/personal_access_tokens/self')
      .reply(200, tokenSelf, json);
    nock(HOST, { reqheaders: { 'private-token': TOKEN } })
      .get('/api/v4/projects/acme%2Fapp')
      .reply(200, project, json);
    const admin = await h.signIn(h.orgA, 'admin');
    const res = await h.post(admin, '/repos/gitlab', { project: 'acme/app', token: TOKEN, baseUrl: HOST });
    expect(res.status).toBe(201);
    expect(nock.pendingMocks()).toEqual([]);
    expect(res.text).not.toContain(TOKEN);
    const secret = textOf(res.text, 'webhook-secret')!;
    const repo = (await findRepo(h.db, 'gitlab', '42', HOST))!;
    expect(repo.orgId).toBe(h.orgA);
    expect(await h.vault.revealSecret(repo.webhookSecretId!, { actor: 'test', purpose: 'test' })).toBe(secret);
    const page = await h.get(admin, '/repos');
    expect(page.text).toContain('acme/app');
    expect(page.text).not.toContain(TOKEN);
    expect(page.text).not.toContain(secret);
    for (const table of ['repos', 'secrets', 'audit_events']) expect(JSON.stringify(await h.db.query(`SELECT * FROM ${table}`))).not.toContain(TOKEN);
  });

  it('refuses a GitLab add from a member (403) or without the CSRF token (403), calling GitLab not at all', async () => {
    const member = await h.signIn(h.orgA, 'member');
    expect((await h.post(member, '/repos/gitlab', { project: 'acme/other', token: TOKEN, baseUrl: HOST })).status).toBe(403);
    const admin = await h.signIn(h.orgA, 'admin');
    expect((await h.post(admin, '/repos/gitlab', { project: 'acme/other', token: TOKEN, baseUrl: HOST, _csrf: '' })).status).toBe(403);
    expect(await findRepo(h.db, 'gitlab', '43', HOST)).toBeNull();
  });
});
