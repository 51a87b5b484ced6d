/**
 * An App's link to a repo and an operator moving that repo's installation to another org
 * take turns: the App never ends up pointing at a repo of another org.
 */
import { linkInstallationToOrg, upsertRepo, type Db } from '../../src/store/index.js';
import { createTestOrg } from '../helpers/db.js';
import { openHarness, type Harness } from './harness.js';
import { send } from './http-client.js';

/** Resolves once some statement of another connection waits for a lock. */
async function someoneWaitsForALock(db: Db): Promise<void> {
  for (;;) {
    const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted');
    if (Number(row!.n) > 0) return;
  }
}

describe('linking an App to a repo while its installation moves to another org (Postgres)', () => {
  let h: Harness;
  let orgB: string;
  beforeAll(async () => {
    h = await openHarness({ db: 'postgres' });
    orgB = await createTestOrg(h.db, h.vault, 'org-b');
  });
  afterAll(async () => h.close());

  const auth = () => ({ authorization: `Bearer ${h.apiKey}`, 'content-type': 'application/json' });

  it('refuses the link (404) once the move commits, and the App keeps no repo of the other org', async () => {
    const installationId = 730_001;
    await h.db.transaction((tx) => linkInstallationToOrg(tx, { installationId, orgId: h.orgId, actor: 'cli', allowMove: true }));
    const repo = await upsertRepo(h.db, { orgId: h.orgId, forge: 'github', externalId: '73000101', fullName: 'acme/moving', installationId }, 'github');
    const created = await send(`${h.url}/api/v1/apps`, { headers: auth(), body: JSON.stringify({ name: 'Shop', origins: [] }) });
    const appId = created.json.app.id as string;

    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let moved!: () => void;
    const movedInTx = new Promise<void>((resolve) => (moved = resolve));
    const move = h.db.transaction(async (tx) => {
      await linkInstallationToOrg(tx, { installationId, orgId: orgB, actor: 'cli', allowMove: true });
      moved();
      await gate;
    });
    await movedInTx;
    const patch = send(`${h.url}/api/v1/apps/${appId}`, { method: 'PATCH', headers: auth(), body: JSON.stringify({ repoId: repo.id }) });
    await Promise.race([patch, someoneWaitsForALock(h.db)]);
    release();
    await move;

    const res = await patch;
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe('repo_not_found');
    const [row] = await h.db.query<{ repo_id: string | null }>('SELECT repo_id FROM apps WHERE id = $1', [appId]);
    expect(row!.repo_id).toBeNull();
  });
});
