import nock from 'nock';
import project from '../fixtures/forge/gitlab-project.json' with { type: 'json' };
import tokenSelf from '../fixtures/forge/gitlab-token-self.json' with { type: 'json' };
import { issueApiKey } from '../../src/security/index.js';
import { findRepo, upsertRepo, type Db } from '../../src/store/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestOrg, DB_KINDS } from '../helpers/db.js';
import { apiClient, type ApiClient } from '../helpers/openapi.js';

const HOST = 'https://gitlab.example.com';
const TOKEN_A = 'glpat-api-org-a-0001';
const TOKEN_B = 'glpat-api-org-b-0002';
const json = { 'content-type': 'application/json' };
const otherProject = { ...project, id: 77, path: 'site', path_with_namespace: 'beta/site', name_with_namespace: 'Beta / site' };

/** GitLab answering one token check and one project read, each exactly once, only with this token. */
function gitlabAccepts(token: string, projectPath: string, body: object): void {
  nock(HOST, { reqheaders: { 'private-token': token } })
    .get('/api/v4/personal_access_tokens/self')
    .reply(200, tokenSelf, json);
  nock(HOST, { reqheaders: { 'private-token': token } })
    .get(`/api/v4/projects/${projectPath}`)
    .reply(200, body, json);
}

describe.each(DB_KINDS)('API repository mutations (%s)', (kind) => {
  let app: TestApp;
  let client: ApiClient;
  let db: Db;
  let orgA: string;
  let orgB: string;
  let writeA: string;
  let readA: string;
  let writeB: string;
  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect((host) => host.startsWith('127.0.0.1'));
    app = await startTestApp({ db: kind });
    db = app.deps.store.db;
    orgA = await createTestOrg(db, app.deps.vault, 'A');
    orgB = await createTestOrg(db, app.deps.vault, 'B');
    writeA = (await issueApiKey(db, orgA, { actor: 'test', scopes: ['read', 'write'] })).key;
    readA = (await issueApiKey(db, orgA, { actor: 'test', scopes: ['read'] })).key;
    writeB = (await issueApiKey(db, orgB, { actor: 'test', scopes: ['read', 'write'] })).key;
    client = await apiClient(app.url);
  });
  afterAll(async () => {
    nock.enableNetConnect();
    await app.close();
  });
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending).toEqual([]);
  });

  it('registers a GitLab project by path: the token is checked once, stored encrypted and in no answer; the webhook secret is shown once', async () => {
    gitlabAccepts(TOKEN_A, 'acme%2Fapp', project);
    const res = await client.call('POST', '/api/v1/gitlab/projects', { key: writeA, body: { baseUrl: HOST, path: 'acme/app', token: TOKEN_A } });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.json.repo).toMatchObject({ forge: 'gitlab', fullName: 'acme/app', externalId: '42', baseUrl: HOST, defaultBranch: 'main', active: true });
    expect(res.json.webhookUrl).toMatch(/\/api\/gitlab\/webhooks$/);
    expect(res.text).not.toContain(TOKEN_A);

    const stored = (await findRepo(db, 'gitlab', '42', HOST))!;
    expect(stored.orgId).toBe(orgA);
    expect(await app.deps.vault.revealSecret(stored.webhookSecretId!, { actor: 'test', purpose: 'test' })).toBe(res.json.webhookSecret);
    expect(await app.deps.vault.revealSecret(stored.tokenSecretId!, { actor: 'test', purpose: 'test' })).toBe(TOKEN_A);

    const one = await client.call('GET', `/api/v1/repos/${stored.id}`, { key: readA });
    const list = await client.call('GET', '/api/v1/repos?forge=gitlab', { key: readA });
    const audit = await client.call('GET', `/api/v1/audit-events?subject=${stored.id}`, { key: readA });
    expect(audit.json.items.map((e: { action: string }) => e.action)).toContain('repo.add');
    expect(one.json.id).toBe(stored.id);
    expect(list.json.items.map((r: { id: string }) => r.id)).toContain(stored.id);
    for (const answer of [one.text, list.text, audit.text]) {
      expect(answer).not.toContain(TOKEN_A);
      expect(answer).not.toContain(res.json.webhookSecret);
    }
    for (const table of ['repos', 'secrets', 'audit_events']) expect(JSON.stringify(await db.query(`SELECT * FROM ${table}`))).not.toContain(TOKEN_A);
  });

  it('registers a project by its numeric id for another org, which the first org cannot see or unlink (404)', async () => {
    gitlabAccepts(TOKEN_B, '77', otherProject);
    const res = await client.call('POST', '/api/v1/gitlab/projects', { key: writeB, body: { baseUrl: HOST, projectId: 77, token: TOKEN_B } });
    expect(res.status).toBe(201);
    expect(res.text).not.toContain(TOKEN_B);
    const id = res.json.repo.id as string;

    for (const [method, key] of [
      ['GET', readA],
      ['DELETE', writeA],
    ] as const) {
      const other = await client.call(method, `/api/v1/repos/${id}`, { key });
      expect([other.status, other.json.error.code]).toEqual([404, 'repo_not_found']);
    }
    const kept = (await findRepo(db, 'gitlab', '77', HOST))!;
    expect({ orgId: kept.orgId, removedAt: kept.removedAt }).toEqual({ orgId: orgB, removedAt: null });
    expect(await app.deps.vault.revealSecret(kept.tokenSecretId!, { actor: 'test', purpose: 'test' })).toBe(TOKEN_B);
  });

  it('refuses a read key (403 insufficient_scope) without calling GitLab or changing anything', async () => {
    const before = await db.query('SELECT id, removed_at FROM repos ORDER BY id');
    const add = await client.call('POST', '/api/v1/gitlab/projects', { key: readA, body: { baseUrl: HOST, path: 'acme/new', token: 'glpat-read-0003' } });
    expect([add.status, add.json.error.code]).toEqual([403, 'insufficient_scope']);
    expect(add.json.error.message).toContain('the `write` scope');
    expect(add.text).not.toContain('glpat-read-0003');
    const stored = (await findRepo(db, 'gitlab', '42', HOST))!;
    const unlink = await client.call('DELETE', `/api/v1/repos/${stored.id}`, { key: readA });
    expect([unlink.status, unlink.json.error.code]).toEqual([403, 'insufficient_scope']);
    expect(await db.query('SELECT id, removed_at FROM repos ORDER BY id')).toEqual(before);
  });

  it.each([
    ['no token', { baseUrl: HOST, path: 'acme/app' }],
    ['neither projectId nor path', { baseUrl: HOST, token: 'glpat-bad-0004' }],
    ['both projectId and path', { baseUrl: HOST, path: 'acme/app', projectId: 42, token: 'glpat-bad-0004' }],
    ['a base URL that is not http(s)', { baseUrl: 'ftp://gitlab.example.com', path: 'acme/app', token: 'glpat-bad-0004' }],
    ['a projectId that is not a number', { baseUrl: HOST, projectId: '42', token: 'glpat-bad-0004' }],
    ['an unknown field', { baseUrl: HOST, path: 'acme/app', token: 'glpat-bad-0004', webhookSecret: 'mine' }],
  ])('refuses a body with %s (400 invalid_payload), never echoing the token', async (_what, body) => {
    const res = await client.call('POST', '/api/v1/gitlab/projects', { key: writeA, body });
    expect([res.status, res.json.error.code]).toEqual([400, 'invalid_payload']);
    expect(res.text).not.toContain('glpat-bad-0004');
  });

  it('answers the console form errors when GitLab rejects the token, never echoing it', async () => {
    nock(HOST, { reqheaders: { 'private-token': 'glpat-wrong-0005' } })
      .get('/api/v4/personal_access_tokens/self')
      .reply(401, { message: '401 Unauthorized' }, json);
    const res = await client.call('POST', '/api/v1/gitlab/projects', { key: writeA, body: { baseUrl: HOST, path: 'acme/other', token: 'glpat-wrong-0005' } });
    expect([res.status, res.json.error.code]).toEqual([400, 'gitlab_token_invalid']);
    expect(res.text).not.toContain('glpat-wrong-0005');
    expect(await findRepo(db, 'gitlab', '43', HOST)).toBeNull();
  });

  it("refuses a project another org registered (409 repo_in_other_org), keeping that org's token", async () => {
    gitlabAccepts(TOKEN_A, '77', otherProject);
    const res = await client.call('POST', '/api/v1/gitlab/projects', { key: writeA, body: { baseUrl: HOST, projectId: 77, token: TOKEN_A } });
    expect([res.status, res.json.error.code]).toEqual([409, 'repo_in_other_org']);
    const kept = (await findRepo(db, 'gitlab', '77', HOST))!;
    expect(kept.orgId).toBe(orgB);
    expect(await app.deps.vault.revealSecret(kept.tokenSecretId!, { actor: 'test', purpose: 'test' })).toBe(TOKEN_B);
  });

  it('unlinks a GitLab project: marked removed, its token and webhook secret deleted; again answers it unchanged; a GitHub repo is refused', async () => {
    const stored = (await findRepo(db, 'gitlab', '42', HOST))!;
    const res = await client.call('DELETE', `/api/v1/repos/${stored.id}`, { key: writeA });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: stored.id, active: false });
    expect(res.json.removedAt).not.toBeNull();
    expect(await db.query('SELECT id FROM secrets WHERE id = ANY($1::text[])', [[stored.tokenSecretId, stored.webhookSecretId]])).toEqual([]);
    const after = (await findRepo(db, 'gitlab', '42', HOST))!;
    expect({ token: after.tokenSecretId, webhook: after.webhookSecretId }).toEqual({ token: null, webhook: null });
    const [audit] = await db.query<{ actor: string }>("SELECT actor FROM audit_events WHERE action = 'repo.remove' AND subject = $1", [stored.id]);
    expect(audit?.actor).toMatch(/^api_key:/);

    const again = await client.call('DELETE', `/api/v1/repos/${stored.id}`, { key: writeA });
    expect([again.status, again.json.removedAt]).toEqual([200, res.json.removedAt]);

    const github = await upsertRepo(db, { orgId: orgA, forge: 'github', externalId: '9001', fullName: 'acme/shop', installationId: 77 }, 'test');
    const refused = await client.call('DELETE', `/api/v1/repos/${github.id}`, { key: writeA });
    expect([refused.status, refused.json.error.code]).toEqual([409, 'repo_not_gitlab']);
    expect((await findRepo(db, 'github', '9001'))!.removedAt).toBeNull();
  });

  it('registers an unlinked project again with a new token and webhook secret', async () => {
    gitlabAccepts('glpat-api-org-a-0006', 'acme%2Fapp', project);
    const res = await client.call('POST', '/api/v1/gitlab/projects', { key: writeA, body: { baseUrl: HOST, path: 'acme/app', token: 'glpat-api-org-a-0006' } });
    expect(res.status).toBe(201);
    expect(res.json.repo).toMatchObject({ externalId: '42', active: true, removedAt: null });
    const stored = (await findRepo(db, 'gitlab', '42', HOST))!;
    expect(await app.deps.vault.revealSecret(stored.tokenSecretId!, { actor: 'test', purpose: 'test' })).toBe('glpat-api-org-a-0006');
  });
});
