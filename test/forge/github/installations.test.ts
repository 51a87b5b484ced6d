import { randomUUID } from 'node:crypto';
import { createApp } from '../../../src/intake/index.js';
import { runOperation } from '../../../src/ops/index.js';
import { listAudit, listRepos } from '../../../src/store/index.js';
import { startTestApp, TEST_WEBHOOK_SECRET, type TestApp } from '../../helpers/app.js';
import { createTestOrg, DB_KINDS } from '../../helpers/db.js';
import { githubExample, sendGitHubWebhook } from '../../helpers/github.js';

describe.each(DB_KINDS)('GitHub installation events on %s', (kind) => {
  let app: TestApp;
  let orgId: string;
  beforeAll(async () => {
    app = await startTestApp({ db: kind, github: true });
    orgId = await createTestOrg(app.deps.store.db, app.deps.vault, 'acme');
  });
  afterAll(async () => app.close());

  const send = (event: string, payload: unknown, deliveryId = randomUUID(), secret = TEST_WEBHOOK_SECRET) =>
    sendGitHubWebhook(app.url, event, payload, { secret, deliveryId });

  const link = (installationId: number, org = orgId) =>
    runOperation({ db: app.deps.store.db, vault: app.deps.vault }, 'repos.link-installation', { installationId, org });
  const withInstallation = (payload: Record<string, any>, id: number): Record<string, any> => ({ ...payload, installation: { ...payload.installation, id } });

  it('leaves a new installation’s repos unassigned, even when there is only one org', async () => {
    const payload = githubExample('installation', 'created');
    const res = await send('installation', payload);
    expect(res.status).toBe(200);
    const repos = await listRepos(app.deps.store.db, { installationId: payload.installation.id });
    expect(repos.map((r) => r.fullName).sort()).toEqual(payload.repositories.map((r: { full_name: string }) => r.full_name).sort());
    expect(repos.every((r) => r.orgId === null && r.forge === 'github')).toBe(true);
  });

  it('assigns the repos once the operator links the installation, and the ones added later too', async () => {
    const created = withInstallation(githubExample('installation', 'created'), 710_001);
    await send('installation', created);
    expect(await link(710_001)).toMatchObject({ orgId, repos: created.repositories.length, previousOrgId: null });
    expect((await listRepos(app.deps.store.db, { installationId: 710_001 })).every((r) => r.orgId === orgId)).toBe(true);

    const added = withInstallation(githubExample('installation_repositories', 'added'), 710_001);
    added.repositories_added = [{ ...added.repositories_added[0], id: 71_000_101, full_name: 'octo/later' }];
    await send('installation_repositories', added);
    const later = (await listRepos(app.deps.store.db, { installationId: 710_001 })).find((r) => r.externalId === '71000101');
    expect(later?.orgId).toBe(orgId);
  });

  it('applies a link made before GitHub’s installation webhook arrives (with several orgs)', async () => {
    await createTestOrg(app.deps.store.db, app.deps.vault, 'rival');
    await link(710_002);
    await send('installation', withInstallation(githubExample('installation', 'created'), 710_002));
    const repos = await listRepos(app.deps.store.db, { installationId: 710_002 });
    expect(repos.length).toBeGreaterThan(0);
    expect(repos.every((r) => r.orgId === orgId)).toBe(true);
  });

  it('unassigns a repo that moves to an installation nobody linked, and unlinks its Apps', async () => {
    const first = withInstallation(githubExample('installation_repositories', 'added'), 710_003);
    const moved = { ...first.repositories_added[0], id: 71_000_301, full_name: 'octo/moving' };
    first.repositories_added = [moved];
    await link(710_003);
    await send('installation_repositories', first);
    const repo = (await listRepos(app.deps.store.db, { installationId: 710_003 })).find((r) => r.externalId === '71000301')!;
    expect(repo.orgId).toBe(orgId);
    const product = await createApp(app.deps.store.db, app.deps.vault, { orgId, name: 'Shop', origins: [], repoId: repo.id, actor: 'test' });

    const second = withInstallation(githubExample('installation_repositories', 'added'), 710_004);
    second.repositories_added = [moved];
    await send('installation_repositories', second);
    const after = (await listRepos(app.deps.store.db, { installationId: 710_004 })).find((r) => r.externalId === '71000301');
    expect(after?.orgId).toBeNull();
    const [row] = await app.deps.store.db.query<{ repo_id: string | null }>('SELECT repo_id FROM apps WHERE id = $1', [product.app.id]);
    expect(row!.repo_id).toBeNull();
  });

  it('moves an installation only by the operator, and the old org’s Apps lose its repos', async () => {
    const created = withInstallation(githubExample('installation', 'created'), 710_006);
    await send('installation', created);
    await link(710_006);
    const repo = (await listRepos(app.deps.store.db, { installationId: 710_006 }))[0]!;
    const product = await createApp(app.deps.store.db, app.deps.vault, { orgId, name: 'Shop', origins: [], repoId: repo.id, actor: 'test' });
    const newOwner = await createTestOrg(app.deps.store.db, app.deps.vault, 'new-owner');
    expect(await link(710_006, newOwner)).toMatchObject({ orgId: newOwner, previousOrgId: orgId });
    expect((await listRepos(app.deps.store.db, { installationId: 710_006 })).every((r) => r.orgId === newOwner)).toBe(true);
    const [row] = await app.deps.store.db.query<{ repo_id: string | null }>('SELECT repo_id FROM apps WHERE id = $1', [product.app.id]);
    expect(row!.repo_id).toBeNull();
  });

  it('forgets the link when the installation is deleted', async () => {
    const created = withInstallation(githubExample('installation', 'created'), 710_005);
    await send('installation', created);
    await link(710_005);
    const deleted = withInstallation(githubExample('installation', 'deleted'), 710_005);
    await send('installation', deleted);
    const rows = await app.deps.store.db.query('SELECT 1 FROM github_installations WHERE installation_id = $1', [710_005]);
    expect(rows).toHaveLength(0);
    // Reinstalled repos (GitHub gives a new installation id, but redeliveries happen) come back unassigned.
    await send('installation', created);
    expect((await listRepos(app.deps.store.db, { installationId: 710_005 })).every((r) => r.orgId === null)).toBe(true);
  });

  it('applies a redelivered delivery id only once', async () => {
    const payload = githubExample('installation_repositories', 'added');
    const deliveryId = randomUUID();
    for (let i = 0; i < 3; i++) expect((await send('installation_repositories', payload, deliveryId)).status).toBe(200);
    const added = payload.repositories_added[0];
    const repos = await listRepos(app.deps.store.db, { installationId: payload.installation.id });
    const repo = repos.find((r) => r.externalId === String(added.id));
    expect(repo).toBeDefined();
    const events = await listAudit(app.deps.store.db, { subject: repo!.id });
    expect(events.filter((e) => e.action === 'repo.add')).toHaveLength(1);
    const [row] = await app.deps.store.db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_deliveries WHERE delivery_id = $1', [deliveryId]);
    expect(Number(row!.n)).toBe(1);
  });

  it('marks removed repos and suspends and unsuspends an installation', async () => {
    const removed = githubExample('installation_repositories', 'removed');
    const gone = removed.repositories_removed[0];
    const added = githubExample('installation_repositories', 'added');
    await send('installation_repositories', { ...added, installation: removed.installation, repositories_added: [gone] });
    expect(
      (await listRepos(app.deps.store.db, { installationId: removed.installation.id })).find((r) => r.externalId === String(gone.id))?.removedAt,
    ).toBeNull();
    await send('installation_repositories', { ...removed, repositories_removed: [gone] });
    const all = await listRepos(app.deps.store.db, { installationId: removed.installation.id });
    expect(all.find((r) => r.externalId === String(gone.id))?.removedAt).toBeInstanceOf(Date);

    const created = githubExample('installation', 'created');
    await send('installation', created);
    const suspend = githubExample('installation', 'suspend');
    suspend.installation.id = created.installation.id;
    await send('installation', suspend);
    expect(await listRepos(app.deps.store.db, { installationId: created.installation.id, active: true })).toHaveLength(0);
    const unsuspend = githubExample('installation', 'unsuspend');
    unsuspend.installation.id = created.installation.id;
    await send('installation', unsuspend);
    expect((await listRepos(app.deps.store.db, { installationId: created.installation.id, active: true })).length).toBeGreaterThan(0);
  });

  it('refuses a bad signature with a 4xx and stores nothing', async () => {
    const payload = githubExample('installation', 'created');
    payload.installation.id = 999_001;
    const deliveryId = randomUUID();
    const res = await send('installation', payload, deliveryId, 'not-the-secret');
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await listRepos(app.deps.store.db, { installationId: 999_001 })).toHaveLength(0);
    const rows = await app.deps.store.db.query('SELECT 1 FROM webhook_deliveries WHERE delivery_id = $1', [deliveryId]);
    expect(rows).toHaveLength(0);
  });

  it('refuses an unsigned delivery', async () => {
    const res = await fetch(`${app.url}/api/github/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'installation', 'x-github-delivery': randomUUID() },
      body: JSON.stringify(githubExample('installation', 'created')),
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });
});

describe('GitHub webhooks without a configured App', () => {
  it("refuses deliveries signed with Probot's development secret", async () => {
    const app = await startTestApp({});
    try {
      const res = await sendGitHubWebhook(app.url, 'installation', githubExample('installation', 'created'), {
        secret: 'development',
        deliveryId: randomUUID(),
      });
      // bad_signature is 401 on every signed route (src/http/status.ts), the GitHub webhook included.
      expect(res.status).toBe(401);
      expect((await res.json()).error.code).toBe('bad_signature');
      expect(await listRepos(app.deps.store.db)).toHaveLength(0);
    } finally {
      await app.close();
    }
  });
});
