import { randomUUID } from 'node:crypto';
import { linkInstallationToOrg, listRepos, type Db } from '../../../src/store/index.js';
import { startTestApp, TEST_WEBHOOK_SECRET, type TestApp } from '../../helpers/app.js';
import { createTestOrg } from '../../helpers/db.js';
import { githubExample, sendGitHubWebhook } from '../../helpers/github.js';

/** Resolves once some statement of another connection waits for a lock. */
async function someoneWaitsForALock(db: Db): Promise<void> {
  for (;;) {
    const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted');
    if (Number(row!.n) > 0) return;
  }
}

describe('installation webhooks racing an operator move (Postgres)', () => {
  let app: TestApp;
  let db: Db;
  let orgA: string;
  let orgB: string;
  beforeAll(async () => {
    app = await startTestApp({ db: 'postgres', github: true });
    db = app.deps.store.db;
    orgA = await createTestOrg(db, app.deps.vault, 'org-a');
    orgB = await createTestOrg(db, app.deps.vault, 'org-b');
  });
  afterAll(async () => app.close());

  it('gives a repo added while the installation moves from A to B to B, never to A', async () => {
    const installationId = 720_001;
    await db.transaction((tx) => linkInstallationToOrg(tx, { installationId, orgId: orgA, actor: 'cli', allowMove: true }));

    // The operator's move is in flight (its transaction not yet committed) when GitHub adds a repo.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let moved!: () => void;
    const movedInTx = new Promise<void>((resolve) => (moved = resolve));
    const move = db.transaction(async (tx) => {
      await linkInstallationToOrg(tx, { installationId, orgId: orgB, actor: 'cli', allowMove: true });
      moved();
      await gate;
    });
    await movedInTx;

    const added = githubExample('installation_repositories', 'added');
    added.installation = { ...added.installation, id: installationId };
    added.repositories_added = [{ ...added.repositories_added[0], id: 72_000_101, full_name: 'octo/racing' }];
    added.repositories_removed = [];
    const delivery = sendGitHubWebhook(app.url, 'installation_repositories', added, { secret: TEST_WEBHOOK_SECRET, deliveryId: randomUUID() });
    // Either the delivery finishes while the move is open (it read the old org), or it waits for the move.
    await Promise.race([delivery, someoneWaitsForALock(db)]);
    release();
    await move;
    expect((await delivery).status).toBe(200);

    const repo = (await listRepos(db, { installationId })).find((r) => r.externalId === '72000101');
    expect(repo?.orgId).toBe(orgB);
  });

  it("does not let a late removal from A's installation take a repo that has since moved to B's", async () => {
    const [fromA, toB] = [720_003, 720_004];
    await db.transaction((tx) => linkInstallationToOrg(tx, { installationId: fromA, orgId: orgA, actor: 'cli', allowMove: true }));
    await db.transaction((tx) => linkInstallationToOrg(tx, { installationId: toB, orgId: orgB, actor: 'cli', allowMove: true }));
    const repo = { ...githubExample('installation_repositories', 'added').repositories_added[0], id: 72_000_301, full_name: 'octo/transferred' };
    const event = (installationId: number, added: unknown[], removed: unknown[]) => {
      const payload = githubExample('installation_repositories', added.length ? 'added' : 'removed');
      return { ...payload, installation: { ...payload.installation, id: installationId }, repositories_added: added, repositories_removed: removed };
    };
    const send = (payload: unknown) =>
      sendGitHubWebhook(app.url, 'installation_repositories', payload, { secret: TEST_WEBHOOK_SECRET, deliveryId: randomUUID() });
    expect((await send(event(fromA, [repo], []))).status).toBe(200);
    // The repository moved to B's account: B's installation gains it before A's removal is delivered.
    expect((await send(event(toB, [repo], []))).status).toBe(200);
    expect((await send(event(fromA, [], [repo]))).status).toBe(200);
    const [row] = await listRepos(db, { installationId: toB });
    expect(row).toMatchObject({ externalId: '72000301', orgId: orgB, removedAt: null });
  });

  it('lets the second of two install-link completions for one new installation fail instead of moving it', async () => {
    const installationId = 720_002;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let linked!: () => void;
    const linkedInTx = new Promise<void>((resolve) => (linked = resolve));
    const first = db.transaction(async (tx) => {
      await linkInstallationToOrg(tx, { installationId, orgId: orgA, actor: 'github_user:1', allowMove: false });
      linked();
      await gate;
    });
    await linkedInTx;
    const second = db.transaction((tx) => linkInstallationToOrg(tx, { installationId, orgId: orgB, actor: 'github_user:2', allowMove: false }));
    const settled = second.then(
      () => 'linked',
      (e: { code?: string }) => e.code ?? 'error',
    );
    await Promise.race([settled, someoneWaitsForALock(db)]);
    release();
    await first;
    expect(await settled).toBe('installation_already_linked');
    const [row] = await db.query<{ org_id: string }>('SELECT org_id FROM github_installations WHERE installation_id = $1', [installationId]);
    expect(row!.org_id).toBe(orgA);
  });
});
