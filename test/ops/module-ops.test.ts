import nock from 'nock';
import project from '../fixtures/forge/gitlab-project.json' with { type: 'json' };
import tokenSelf from '../fixtures/forge/gitlab-token-self.json' with { type: 'json' };
import { runOperation, type OpsDeps } from '../../src/ops/index.js';
import { GITLAB_OPS } from '../../src/forge/index.js';
import { INTAKE_OPS } from '../../src/intake/index.js';

const OPS_FROM_MODULES = { ...INTAKE_OPS, ...GITLAB_OPS };
import { generateKeyringEntry, KeyringMasterKey, Vault } from '../../src/security/index.js';
import { findRepo, getApp, listAudit, type Db } from '../../src/store/index.js';
import { openTestDb } from '../helpers/db.js';

const HOST = 'https://gitlab.example.com';
const TOKEN = 'glpat-connect-cli-0001';
const json = { 'content-type': 'application/json' };

describe('operator actions from modules (userz app create, userz repos add-gitlab)', () => {
  let db: Db;
  let deps: OpsDeps;
  beforeAll(async () => {
    db = await openTestDb('pglite');
    deps = { db, vault: new Vault(db, new KeyringMasterKey(generateKeyringEntry(1))), extra: OPS_FROM_MODULES };
    await runOperation(deps, 'init', { name: 'acme' });
  });
  afterAll(async () => db.close());
  afterEach(() => nock.cleanAll());

  it('creates an App in the only org when --org is left out, showing its secret once', async () => {
    const r = (await runOperation(deps, 'app.create', { name: 'Shop', origins: ['https://shop.example'] })) as {
      appId: string;
      publicKey: string;
      signingSecret: string;
    };
    expect(r.publicKey).toMatch(/^pub_/);
    const app = await getApp(db, r.appId);
    expect(app!.origins).toEqual(['https://shop.example']);
    expect(JSON.stringify(await db.query('SELECT * FROM apps'))).not.toContain(r.signingSecret);
  });

  it('refuses an origin with a path, with a clear error', async () => {
    await expect(runOperation(deps, 'app.create', { name: 'Bad', origins: ['https://shop.example/checkout'] })).rejects.toMatchObject({ status: 400 });
  });

  it('connects a GitLab project after checking the token once, storing it only encrypted', async () => {
    nock(HOST, { reqheaders: { 'private-token': TOKEN } })
      .get('/api/v4/personal_access_tokens/self')
      .reply(200, tokenSelf, json);
    nock(HOST, { reqheaders: { 'private-token': TOKEN } })
      .get('/api/v4/projects/acme%2Fapp')
      .reply(200, project, json);
    const r = (await runOperation(deps, 'repos.add-gitlab', { project: 'acme/app', token: TOKEN, baseUrl: HOST })) as Record<string, unknown>;
    expect(nock.pendingMocks()).toEqual([]);
    expect(JSON.stringify(r)).not.toContain(TOKEN);
    expect(r.webhookPath).toBe('/api/gitlab/webhooks');
    const repo = await findRepo(db, 'gitlab', '42', HOST);
    expect(repo).toMatchObject({ fullName: 'acme/app', defaultBranch: 'main' });
    expect(await deps.vault.revealSecret(repo!.tokenSecretId!, { actor: 'test', purpose: 'check' })).toBe(TOKEN);
    for (const table of ['repos', 'secrets', 'audit_events']) {
      expect(JSON.stringify(await db.query(`SELECT * FROM ${table}`))).not.toContain(TOKEN);
    }
    expect((await listAudit(db, { subject: repo!.id })).map((e) => e.action)).toContain('repo.add');
  });

  it('stores nothing when GitLab refuses the token', async () => {
    nock(HOST).get('/api/v4/personal_access_tokens/self').reply(401, { message: '401 Unauthorized' }, json);
    await expect(runOperation(deps, 'repos.add-gitlab', { project: 'acme/other', token: 'glpat-wrong', baseUrl: HOST })).rejects.toMatchObject({
      code: 'gitlab_token_invalid',
    });
    expect(nock.pendingMocks()).toEqual([]);
    const [n] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM repos WHERE full_name = 'acme/other'`);
    expect(Number(n!.n)).toBe(0);
  });
});
