/**
 * An App links only a repo of its own org. A repo nobody owns yet (org_id NULL: a GitHub
 * installation no org has linked) can be linked by no one, through any path: the API's
 * create and PATCH, and the operator's `app create`.
 */
import { runOperation } from '../../src/ops/index.js';
import { GITLAB_OPS } from '../../src/forge/index.js';
import { INTAKE_OPS } from '../../src/intake/index.js';

const OPS_FROM_MODULES = { ...INTAKE_OPS, ...GITLAB_OPS };
import { issueApiKey } from '../../src/security/index.js';
import { upsertRepo } from '../../src/store/index.js';
import { createTestOrg } from '../helpers/db.js';
import { countRows, openHarness, type Harness } from './harness.js';
import { send } from './http-client.js';

describe('linking an App to a repo', () => {
  let h: Harness;
  let ownRepo: string;
  let unassignedRepo: string;
  let foreignRepo: string;
  beforeAll(async () => {
    h = await openHarness({ db: 'postgres' });
    const otherOrg = await createTestOrg(h.db, h.vault, 'Rival');
    ownRepo = (await upsertRepo(h.db, { orgId: h.orgId, forge: 'github', externalId: '501', fullName: 'acme/shop', installationId: 51 }, 'test')).id;
    unassignedRepo = (await upsertRepo(h.db, { orgId: null, forge: 'github', externalId: '502', fullName: 'victim/secret', installationId: 52 }, 'github')).id;
    foreignRepo = (await upsertRepo(h.db, { orgId: otherOrg, forge: 'github', externalId: '503', fullName: 'rival/app', installationId: 53 }, 'test')).id;
  });
  afterAll(async () => h.close());

  const auth = () => ({ authorization: `Bearer ${h.apiKey}`, 'content-type': 'application/json' });
  const createApp = (repoId?: string) => send(`${h.url}/api/v1/apps`, { headers: auth(), body: JSON.stringify({ name: 'Shop', origins: [], repoId }) });
  const patchApp = (id: string, repoId: string) => send(`${h.url}/api/v1/apps/${id}`, { method: 'PATCH', headers: auth(), body: JSON.stringify({ repoId }) });
  const repoOfApp = async (id: string) => (await h.db.query<{ repo_id: string | null }>('SELECT repo_id FROM apps WHERE id = $1', [id]))[0]!.repo_id;

  it('links a repo of its own org (the control)', async () => {
    const res = await createApp(ownRepo);
    expect(res.status).toBe(201);
    expect(res.json.app.repoId).toBe(ownRepo);
  });

  it.each([
    ['an unassigned', () => unassignedRepo],
    ['another org’s', () => foreignRepo],
    ['an empty-id', () => ''],
  ])('refuses to create an App on %s repo and stores nothing', async (_what, repo) => {
    const before = await countRows(h.db, 'apps');
    const res = await createApp(repo());
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe('repo_not_found');
    expect(await countRows(h.db, 'apps')).toBe(before);
  });

  it.each([
    ['an unassigned', () => unassignedRepo],
    ['another org’s', () => foreignRepo],
    ['an empty-id', () => ''],
  ])('refuses to PATCH an App onto %s repo and keeps its link', async (_what, repo) => {
    const created = await createApp(ownRepo);
    const id = created.json.app.id as string;
    const res = await patchApp(id, repo());
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe('repo_not_found');
    expect(await repoOfApp(id)).toBe(ownRepo);
  });

  it('refuses an unassigned repo for the operator’s `app create` too', async () => {
    const before = await countRows(h.db, 'apps');
    const deps = { db: h.db, vault: h.vault, extra: OPS_FROM_MODULES };
    await expect(runOperation(deps, 'app.create', { org: h.orgId, name: 'Ops', origins: [], repo: unassignedRepo })).rejects.toMatchObject({
      code: 'repo_not_found',
      status: 404,
    });
    expect(await countRows(h.db, 'apps')).toBe(before);
  });

  it('does not let a second org claim the unassigned repo either', async () => {
    const third = await createTestOrg(h.db, h.vault, 'Third');
    const { key } = await issueApiKey(h.db, third, { actor: 'test' });
    const res = await send(`${h.url}/api/v1/apps`, {
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Grab', origins: [], repoId: unassignedRepo }),
    });
    expect(res.status).toBe(404);
    const [row] = await h.db.query<{ org_id: string | null }>('SELECT org_id FROM repos WHERE id = $1', [unassignedRepo]);
    expect(row!.org_id).toBeNull();
  });
});
