/**
 * Install links: an org links a GitHub installation to itself only through a link it
 * created (signed, single-use, expiring `state`) whose callback proves, with GitHub's user
 * authorization during installation, that the installer administers that installation.
 * GitHub is mocked with nock, strictly; everything else is real.
 */
import nock from 'nock';
import { signInstallState } from '../../../src/forge/github/install-link.js';
import { issueApiKey } from '../../../src/security/index.js';
import { listRepos, upsertRepo, type Db } from '../../../src/store/index.js';
import { startTestApp, type TestApp } from '../../helpers/app.js';
import { createTestOrg } from '../../helpers/db.js';

const CLIENT_ID = 'Iv1.userztest0001';
const CLIENT_SECRET = 'client-secret-for-tests-0123456789abcdef';
const STATE_SECRET = 'state-secret-for-tests-0123456789';
const USER_TOKEN = 'ghu_installeruser0001';
const WEB = 'https://github.com';
const API = 'https://api.github.com';

type Account = { login: string; id: number; type: 'Organization' | 'User' };
const ORG_ACCOUNT: Account = { login: 'acme-gh', id: 9001, type: 'Organization' };
const USER = { id: 77, login: 'alice' };

describe('GitHub install links', () => {
  let app: TestApp;
  let db: Db;
  let orgId: string;
  let apiKey: string;
  let otherKey: string;
  let otherOrgId: string;
  let nextInstallation = 880_000;
  const unmatched: string[] = [];
  // Requests to the app under test (loopback) pass through; anything else unmocked is a finding.
  const onNoMatch = (req: { method?: string; hostname?: string; path?: string }) => {
    if (!req.hostname?.startsWith('127.')) unmatched.push(`${req.method} ${req.hostname}${req.path}`);
  };

  beforeAll(async () => {
    app = await startTestApp({
      db: 'postgres',
      github: true,
      env: { GITHUB_APP_SLUG: 'userz-test', GITHUB_CLIENT_ID: CLIENT_ID, GITHUB_CLIENT_SECRET: CLIENT_SECRET, GITHUB_STATE_SECRET: STATE_SECRET },
    });
    db = app.deps.store.db;
    orgId = await createTestOrg(db, app.deps.vault, 'acme');
    apiKey = (await issueApiKey(db, orgId, { actor: 'test' })).key;
    const otherOrg = await createTestOrg(db, app.deps.vault, 'rival');
    otherKey = (await issueApiKey(db, otherOrg, { actor: 'test' })).key;
    otherOrgId = otherOrg;
    nock.emitter.on('no match', onNoMatch);
  });
  afterAll(async () => {
    nock.emitter.removeListener('no match', onNoMatch);
    await app.close();
  });
  beforeEach(() => {
    unmatched.length = 0;
  });
  afterEach(() => {
    expect(nock.pendingMocks()).toEqual([]);
    expect(unmatched).toEqual([]);
    nock.cleanAll();
  });

  /** An installation GitHub already told us about: its repos exist, unassigned. */
  async function knownInstallation(): Promise<number> {
    const id = ++nextInstallation;
    await upsertRepo(
      db,
      { orgId: null, replaceOrg: true, forge: 'github', externalId: String(id * 10), fullName: `acme-gh/repo-${id}`, installationId: id },
      'github',
    );
    return id;
  }

  async function createLink(key = apiKey): Promise<{ url: URL; state: string; status: number; json: any }> {
    const res = await fetch(`${app.url}/api/v1/github/install-links`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
    const json = (await res.json()) as any;
    const url = new URL(json.url ?? 'http://invalid/');
    return { url, state: url.searchParams.get('state') ?? '', status: res.status, json };
  }

  function callback(params: Record<string, string>): Promise<Response> {
    return fetch(`${app.url}/api/github/setup?${new URLSearchParams(params).toString()}`);
  }

  /** What GitHub answers during a real installation by `user` with `installations` visible to them. */
  function expectGitHubProof(opts: {
    code: string;
    installations: Array<{ id: number; account: Account }>;
    user?: typeof USER;
    membership?: { state: string; role: string } | null | 'forbidden';
  }): void {
    nock(WEB, { reqheaders: { accept: 'application/json' } })
      .post('/login/oauth/access_token', { client_id: CLIENT_ID, client_secret: CLIENT_SECRET, code: opts.code })
      .reply(200, { access_token: USER_TOKEN, token_type: 'bearer', scope: '' });
    const api = nock(API, { reqheaders: { authorization: `Bearer ${USER_TOKEN}` } });
    api
      .get('/user/installations')
      .query({ per_page: '100', page: '1' })
      .reply(200, { total_count: opts.installations.length, installations: opts.installations });
    const listed = opts.installations.length > 0;
    if (listed) api.get('/user').reply(200, opts.user ?? USER);
    if (opts.membership !== undefined) {
      const account = ORG_ACCOUNT;
      if (opts.membership === null) api.get(`/user/memberships/orgs/${account.login}`).reply(404, { message: 'Not Found' });
      else if (opts.membership === 'forbidden')
        api.get(`/user/memberships/orgs/${account.login}`).reply(403, { message: 'Resource not accessible by integration' });
      else api.get(`/user/memberships/orgs/${account.login}`).reply(200, { ...opts.membership, organization: { login: account.login } });
    }
    const basic = Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64');
    nock(API, { reqheaders: { authorization: `Basic ${basic}` } })
      .delete(`/applications/${CLIENT_ID}/token`, { access_token: USER_TOKEN })
      .reply(204);
  }

  const ownerOf = async (installationId: number): Promise<string | null> =>
    (await db.query<{ org_id: string }>('SELECT org_id FROM github_installations WHERE installation_id = $1', [installationId]))[0]?.org_id ?? null;

  it('creates a link to GitHub’s install page with a signed state, for an sk_ key only', async () => {
    const link = await createLink();
    expect(link.status).toBe(201);
    expect(`${link.url.origin}${link.url.pathname}`).toBe('https://github.com/apps/userz-test/installations/new');
    expect(link.state).toMatch(/^v1\.[\w-]+\.[\w-]+$/);
    expect(new Date(link.json.expiresAt).getTime() - Date.now()).toBeLessThanOrEqual(15 * 60_000);
    const anonymous = await fetch(`${app.url}/api/v1/github/install-links`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as any).error.code).toBe('invalid_api_key');
  });

  it('links the installation and its repos when an organization admin installs from the link', async () => {
    const installationId = await knownInstallation();
    const { state } = await createLink();
    expectGitHubProof({
      code: 'code-ok',
      installations: [
        { id: 5, account: { login: 'other', id: 1, type: 'User' } },
        { id: installationId, account: ORG_ACCOUNT },
      ],
      membership: { state: 'active', role: 'admin' },
    });
    const res = await callback({ installation_id: String(installationId), setup_action: 'install', state, code: 'code-ok' });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('acme-gh');
    expect(await ownerOf(installationId)).toBe(orgId);
    expect((await listRepos(db, { installationId })).every((r) => r.orgId === orgId)).toBe(true);
    // Neither the client secret nor the user token reached the log.
    expect(app.logText()).not.toContain(CLIENT_SECRET);
    expect(app.logText()).not.toContain(USER_TOKEN);
  });

  it('links a personal account’s installation when that user installs it', async () => {
    const installationId = await knownInstallation();
    const { state } = await createLink();
    expectGitHubProof({ code: 'code-user', installations: [{ id: installationId, account: { login: 'alice', id: USER.id, type: 'User' } }] });
    const res = await callback({ installation_id: String(installationId), setup_action: 'install', state, code: 'code-user' });
    expect(res.status).toBe(200);
    expect(await ownerOf(installationId)).toBe(orgId);
  });

  it.each([
    ['is missing', () => ''],
    [
      'is forged with another secret',
      () => signInstallState('not-the-server-secret-0123456789', { nonce: 'n'.repeat(32), orgId, expiresAt: Date.now() + 60_000 }),
    ],
    ['has expired (signed expiry)', () => signInstallState(STATE_SECRET, { nonce: 'n'.repeat(32), orgId, expiresAt: Date.now() - 1 })],
    [
      'was never issued (right signature, unknown nonce)',
      () => signInstallState(STATE_SECRET, { nonce: 'never-issued-nonce-000000000000', orgId, expiresAt: Date.now() + 60_000 }),
    ],
  ])('refuses a callback whose state %s, before asking GitHub anything', async (_what, makeState) => {
    const installationId = await knownInstallation();
    const state = makeState();
    const res = await callback({ installation_id: String(installationId), setup_action: 'install', code: 'code-x', ...(state ? { state } : {}) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe('invalid_install_state');
    expect(await ownerOf(installationId)).toBeNull();
    expect((await listRepos(db, { installationId }))[0]!.orgId).toBeNull();
  });

  it('refuses a state whose org was changed (the signature covers it)', async () => {
    const installationId = await knownInstallation();
    const { state } = await createLink();
    const [v, body, mac] = state.split('.');
    const claim = JSON.parse(Buffer.from(body!, 'base64url').toString('utf8'));
    const rival = (await db.query<{ id: string }>("SELECT id FROM orgs WHERE name = 'rival'"))[0]!.id;
    const tampered = `${v}.${Buffer.from(JSON.stringify({ ...claim, o: rival })).toString('base64url')}.${mac}`;
    const res = await callback({ installation_id: String(installationId), setup_action: 'install', state: tampered, code: 'code-x' });
    expect(res.status).toBe(400);
    expect(await ownerOf(installationId)).toBeNull();
  });

  it('refuses a state past its stored expiry', async () => {
    const installationId = await knownInstallation();
    const { state } = await createLink();
    await db.query("UPDATE github_install_states SET expires_at = now() - interval '1 second'");
    const res = await callback({ installation_id: String(installationId), setup_action: 'install', state, code: 'code-x' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe('invalid_install_state');
    expect(await ownerOf(installationId)).toBeNull();
  });

  it('uses a state once: a replay, even for another installation, is refused', async () => {
    const first = await knownInstallation();
    const second = await knownInstallation();
    const { state } = await createLink();
    expectGitHubProof({ code: 'code-once', installations: [{ id: first, account: ORG_ACCOUNT }], membership: { state: 'active', role: 'admin' } });
    expect((await callback({ installation_id: String(first), setup_action: 'install', state, code: 'code-once' })).status).toBe(200);
    const replay = await callback({ installation_id: String(second), setup_action: 'install', state, code: 'code-again' });
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as any).error.code).toBe('invalid_install_state');
    expect(await ownerOf(second)).toBeNull();
  });

  it('refuses an installation_id that the authorizing user cannot see (a spoofed id), and burns the state', async () => {
    const victim = await knownInstallation();
    const { state } = await createLink();
    expectGitHubProof({ code: 'code-spoof', installations: [] });
    const res = await callback({ installation_id: String(victim), setup_action: 'install', state, code: 'code-spoof' });
    expect(res.status).toBe(403);
    expect(((await res.json()) as any).error.code).toBe('installation_not_administered');
    expect(await ownerOf(victim)).toBeNull();
    expect((await listRepos(db, { installationId: victim }))[0]!.orgId).toBeNull();
    const again = await callback({ installation_id: String(victim), setup_action: 'install', state, code: 'code-spoof' });
    expect(again.status).toBe(400);
  });

  it.each([
    ['a plain member of the organization', { state: 'active', role: 'member' }],
    ['an invited, not yet active, admin', { state: 'pending', role: 'admin' }],
    ['no member of the organization at all', null],
    ['someone GitHub will not show the membership of', 'forbidden' as const],
  ])('refuses %s, who can see the installation but does not administer it', async (_who, membership) => {
    const installationId = await knownInstallation();
    const { state } = await createLink();
    expectGitHubProof({ code: 'code-member', installations: [{ id: installationId, account: ORG_ACCOUNT }], membership });
    const res = await callback({ installation_id: String(installationId), setup_action: 'install', state, code: 'code-member' });
    expect(res.status).toBe(403);
    expect(((await res.json()) as any).error.code).toBe('installation_not_administered');
    expect(await ownerOf(installationId)).toBeNull();
  });

  it('refuses another user’s personal installation', async () => {
    const installationId = await knownInstallation();
    const { state } = await createLink();
    expectGitHubProof({ code: 'code-other-user', installations: [{ id: installationId, account: { login: 'bob', id: 78, type: 'User' } }] });
    const res = await callback({ installation_id: String(installationId), setup_action: 'install', state, code: 'code-other-user' });
    expect(res.status).toBe(403);
    expect(await ownerOf(installationId)).toBeNull();
  });

  it('refuses a callback without GitHub’s user authorization code', async () => {
    const installationId = await knownInstallation();
    const { state } = await createLink();
    const res = await callback({ installation_id: String(installationId), setup_action: 'install', state });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe('github_user_authorization_missing');
    expect(await ownerOf(installationId)).toBeNull();
  });

  it('refuses a code GitHub does not accept', async () => {
    const installationId = await knownInstallation();
    const { state } = await createLink();
    nock(WEB).post('/login/oauth/access_token').reply(200, { error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.' });
    const res = await callback({ installation_id: String(installationId), setup_action: 'install', state, code: 'code-bad' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe('github_authorization_failed');
    expect(await ownerOf(installationId)).toBeNull();
  });

  it('does not link an installation request that still waits for an owner', async () => {
    const installationId = await knownInstallation();
    const { state } = await createLink();
    const res = await callback({ installation_id: String(installationId), setup_action: 'request', state });
    expect(res.status).toBe(409);
    expect(((await res.json()) as any).error.code).toBe('installation_pending_approval');
    expect(await ownerOf(installationId)).toBeNull();
  });

  it('refuses a malformed installation_id', async () => {
    const { state } = await createLink();
    const res = await callback({ installation_id: '12abc', setup_action: 'install', state, code: 'code-x' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe('invalid_installation_id');
  });

  it('does not move an installation another org already linked', async () => {
    const installationId = await knownInstallation();
    const mine = await createLink();
    expectGitHubProof({ code: 'code-first', installations: [{ id: installationId, account: ORG_ACCOUNT }], membership: { state: 'active', role: 'admin' } });
    expect((await callback({ installation_id: String(installationId), setup_action: 'install', state: mine.state, code: 'code-first' })).status).toBe(200);

    const theirs = await createLink(otherKey);
    expectGitHubProof({ code: 'code-second', installations: [{ id: installationId, account: ORG_ACCOUNT }], membership: { state: 'active', role: 'admin' } });
    const res = await callback({ installation_id: String(installationId), setup_action: 'update', state: theirs.state, code: 'code-second' });
    expect(res.status).toBe(409);
    expect(((await res.json()) as any).error.code).toBe('installation_already_linked');
    expect(await ownerOf(installationId)).toBe(orgId);
  });

  it('lets one state link once when its callback arrives several times at once', async () => {
    const installationId = await knownInstallation();
    const { state } = await createLink();
    expectGitHubProof({ code: 'code-burst', installations: [{ id: installationId, account: ORG_ACCOUNT }], membership: { state: 'active', role: 'admin' } });
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => callback({ installation_id: String(installationId), setup_action: 'install', state, code: 'code-burst' })),
    );
    expect(answers.map((r) => r.status).sort()).toEqual([200, 400, 400, 400, 400, 400]);
    expect(await ownerOf(installationId)).toBe(orgId);
  });

  it('lets only one of two orgs whose links complete at the same moment have an installation', async () => {
    const installationId = await knownInstallation();
    const mine = await createLink();
    const theirs = await createLink(otherKey);
    expectGitHubProof({ code: 'code-race-a', installations: [{ id: installationId, account: ORG_ACCOUNT }], membership: { state: 'active', role: 'admin' } });
    expectGitHubProof({ code: 'code-race-b', installations: [{ id: installationId, account: ORG_ACCOUNT }], membership: { state: 'active', role: 'admin' } });
    const answers = await Promise.all([
      callback({ installation_id: String(installationId), setup_action: 'install', state: mine.state, code: 'code-race-a' }),
      callback({ installation_id: String(installationId), setup_action: 'install', state: theirs.state, code: 'code-race-b' }),
    ]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
    // The installation stays with the org whose callback got the 200; the other was not moved onto it.
    expect(await ownerOf(installationId)).toBe(answers[0]!.status === 200 ? orgId : otherOrgId);
    const links = await db.query("SELECT 1 FROM audit_events WHERE action = 'installation.link' AND subject = $1", [String(installationId)]);
    expect(links).toHaveLength(1);
  });
});

describe('GitHub install links without the OAuth settings', () => {
  it('answers 409 with a code that names what is missing', async () => {
    const app = await startTestApp({ db: 'postgres', github: true });
    try {
      const orgId = await createTestOrg(app.deps.store.db, app.deps.vault, 'acme');
      const { key } = await issueApiKey(app.deps.store.db, orgId, { actor: 'test' });
      const res = await fetch(`${app.url}/api/v1/github/install-links`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(409);
      expect(((await res.json()) as any).error.code).toBe('github_install_links_not_configured');
      const setup = await fetch(`${app.url}/api/github/setup?installation_id=1&setup_action=install`);
      expect(setup.status).toBe(409);
    } finally {
      await app.close();
    }
  });
});
