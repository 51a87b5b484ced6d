import nock from 'nock';
import project from '../fixtures/forge/gitlab-project.json' with { type: 'json' };
import tokenSelf from '../fixtures/forge/gitlab-token-self.json' with { type: 'json' };
import { runOperation, type OpsDeps } from '../../src/ops/index.js';
import { GITLAB_OPS } from '../../src/forge/index.js';
import { INTAKE_OPS } from '../../src/intake/index.js';

const OPS_FROM_MODULES = { ...INTAKE_OPS, ...GITLAB_OPS };
import { generateKeyringEntry, KeyringMasterKey, Vault } from '../../src/security/index.js';
import { type Db } from '../../src/store/index.js';
import { createTestOrg, openTestDb } from '../helpers/db.js';

const HOST = 'https://gitlab.example.com';
const json = { 'content-type': 'application/json' };

function gitlabAccepts(token: string, host = HOST): void {
  nock(host, { reqheaders: { 'private-token': token } })
    .get('/api/v4/personal_access_tokens/self')
    .reply(200, tokenSelf, json);
  nock(host, { reqheaders: { 'private-token': token } })
    .get('/api/v4/projects/acme%2Fapp')
    .reply(200, project, json);
}

describe('a GitLab project belongs to the org that registered it first', () => {
  let db: Db;
  let deps: OpsDeps;
  let tokenOfA: string;
  beforeAll(async () => {
    db = await openTestDb('postgres');
    deps = { db, vault: new Vault(db, new KeyringMasterKey(generateKeyringEntry(1))), extra: OPS_FROM_MODULES };
    await runOperation(deps, 'init', { name: 'org-a' });
    await createTestOrg(db, deps.vault, 'org-b');
    gitlabAccepts('glpat-org-a-0001');
    await runOperation(deps, 'repos.add-gitlab', { org: 'org-a', project: 'acme/app', token: 'glpat-org-a-0001', baseUrl: HOST });
    const [row] = await db.query<{ token_secret_id: string }>("SELECT token_secret_id FROM repos WHERE forge = 'gitlab'");
    tokenOfA = row!.token_secret_id;
  });
  afterAll(async () => db.close());
  afterEach(() => {
    expect(nock.pendingMocks()).toEqual([]);
    nock.cleanAll();
  });

  const reposState = () =>
    db.query(
      "SELECT id, org_id, token_secret_id, webhook_secret_id, base_url FROM repos WHERE forge = 'gitlab' AND base_url LIKE '%gitlab.example.com' ORDER BY id",
    );

  it.each([
    ['the same base URL', HOST],
    ['a trailing slash', `${HOST}/`],
    ['the API path', `${HOST}/api/v4`],
    ['an upper-case host', 'https://GITLAB.example.com'],
  ])("refuses org B registering org A's project with its own token through %s", async (_label, baseUrl) => {
    const before = await reposState();
    gitlabAccepts('glpat-org-b-0001', new URL(baseUrl).origin);
    await expect(runOperation(deps, 'repos.add-gitlab', { org: 'org-b', project: 'acme/app', token: 'glpat-org-b-0001', baseUrl })).rejects.toMatchObject({
      code: 'repo_in_other_org',
      status: 409,
    });
    expect(await reposState()).toEqual(before);
    expect(before).toEqual([expect.objectContaining({ token_secret_id: tokenOfA })]);
    const [secrets] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM secrets WHERE kind IN ('gitlab_token', 'gitlab_webhook_secret')");
    expect(Number(secrets!.n)).toBe(2);
  });

  it('lets exactly one of two orgs registering a new project at once have it', async () => {
    const host = 'https://gitlab.two.example';
    gitlabAccepts('glpat-org-a-0003', host);
    gitlabAccepts('glpat-org-b-0003', host);
    const results = await Promise.allSettled([
      runOperation(deps, 'repos.add-gitlab', { org: 'org-a', project: 'acme/app', token: 'glpat-org-a-0003', baseUrl: host }),
      runOperation(deps, 'repos.add-gitlab', { org: 'org-b', project: 'acme/app', token: 'glpat-org-b-0003', baseUrl: host }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(['repo_in_other_org']);
    const rows = await db.query<{ org_id: string; token_org: string }>(
      'SELECT r.org_id, s.org_id AS token_org FROM repos r JOIN secrets s ON s.id = r.token_secret_id WHERE r.base_url = $1',
      [host],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_org).toBe(rows[0]!.org_id);
  });

  it('lets the owning org register its project again (a new token)', async () => {
    gitlabAccepts('glpat-org-a-0002');
    await runOperation(deps, 'repos.add-gitlab', { org: 'org-a', project: 'acme/app', token: 'glpat-org-a-0002', baseUrl: `${HOST}/` });
    const rows = await db.query<{ token_secret_id: string; base_url: string }>(
      "SELECT token_secret_id, base_url FROM repos WHERE forge = 'gitlab' AND external_id = '42' AND base_url LIKE '%gitlab.example.com'",
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_secret_id).not.toBe(tokenOfA);
    expect(rows[0]!.base_url).toBe(HOST);
  });
});
