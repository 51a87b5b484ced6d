import { randomUUID } from 'node:crypto';
import { insertOrg, listAudit, listRepos } from '../../../src/store/index.js';
import { startTestApp, TEST_WEBHOOK_SECRET, type TestApp } from '../../helpers/app.js';
import { DB_KINDS } from '../../helpers/db.js';
import { githubExample, sendGitHubWebhook } from '../../helpers/github.js';

describe.each(DB_KINDS)('GitHub installation events on %s', (kind) => {
  let app: TestApp;
  let orgId: string;
  beforeAll(async () => {
    app = await startTestApp({ db: kind, github: true });
    orgId = (await insertOrg(app.deps.store.db, 'acme', 'test')).id;
  });
  afterAll(async () => app.close());

  const send = (event: string, payload: unknown, deliveryId = randomUUID(), secret = TEST_WEBHOOK_SECRET) =>
    sendGitHubWebhook(app.url, event, payload, { secret, deliveryId });

  it('adds the repos of a new installation to the only org', async () => {
    const payload = githubExample('installation', 'created');
    const res = await send('installation', payload);
    expect(res.status).toBe(200);
    const repos = await listRepos(app.deps.store.db, { installationId: payload.installation.id });
    expect(repos.map((r) => r.fullName).sort()).toEqual(payload.repositories.map((r: { full_name: string }) => r.full_name).sort());
    expect(repos.every((r) => r.orgId === orgId && r.forge === 'github')).toBe(true);
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
    expect((await listRepos(app.deps.store.db, { installationId: removed.installation.id })).find((r) => r.externalId === String(gone.id))?.removedAt).toBeNull();
    await send('installation_repositories', { ...removed, repositories_removed: [gone] });
    const all = await listRepos(app.deps.store.db, { installationId: removed.installation.id });
    expect(all.find((r) => r.externalId === String(gone.id))?.removedAt).toBeInstanceOf(Date);

    const created = githubExample('installation', 'created');
    await send('installation', created);
    const suspend = githubExample('installation', 'suspend');
    suspend.installation.id = created.installation.id;
    await send('installation', suspend);
    expect((await listRepos(app.deps.store.db, { installationId: created.installation.id, active: true }))).toHaveLength(0);
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
      const res = await sendGitHubWebhook(app.url, 'installation', githubExample('installation', 'created'), { secret: 'development', deliveryId: randomUUID() });
      expect(res.status).toBe(400);
      expect(await listRepos(app.deps.store.db)).toHaveLength(0);
    } finally {
      await app.close();
    }
  });
});
