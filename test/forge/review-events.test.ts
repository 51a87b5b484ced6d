import { randomUUID } from 'node:crypto';
import mergeRequestEvent from '../fixtures/forge/gitlab-merge-request-event.json' with { type: 'json' };
import { createApp } from '../../src/intake/index.js';
import { getRun, insertRun, transitionRun } from '../../src/pipeline/index.js';
import { listAudit, newId, upsertRepo, type Db } from '../../src/store/index.js';
import { startTestApp, TEST_WEBHOOK_SECRET, type TestApp } from '../helpers/app.js';
import { githubExample, sendGitHubWebhook } from '../helpers/github.js';
import { createTestOrg } from '../helpers/db.js';

/** A run whose draft is open, as delivery leaves it. */
async function openedRun(
  app: TestApp,
  forge: 'github' | 'gitlab',
  webhookSecret?: string,
  where: { org?: string; externalId?: string; baseUrl?: string } = {},
): Promise<string> {
  const db: Db = app.deps.store.db;
  const orgId = await createTestOrg(db, app.deps.vault, where.org ?? `acme-${forge}`);
  const webhookSecretId = webhookSecret ? await app.deps.vault.storeSecret(orgId, 'gitlab_webhook_secret', webhookSecret) : null;
  const externalId = where.externalId ?? (forge === 'gitlab' ? String(mergeRequestEvent.project.id) : '186853002');
  const repo = await upsertRepo(db, { orgId, forge, externalId, baseUrl: where.baseUrl, fullName: `${where.org ?? 'acme'}/app`, webhookSecretId }, 'test');
  const product = await createApp(db, app.deps.vault, { orgId, name: 'Shop', origins: [], repoId: repo.id, actor: 'test' });
  const batchId = newId('bat');
  await db.query(`INSERT INTO batches (id, app_id, fingerprint, open_until) VALUES ($1, $2, 'x', now())`, [batchId, product.app.id]);
  const run = await insertRun(db, { orgId, appId: product.app.id, batchId, repoId: repo.id, state: 'queued' });
  for (const [from, to] of [
    ['queued', 'triaged'],
    ['triaged', 'running'],
    ['running', 'checking'],
    ['checking', 'pr_opened'],
  ] as const) {
    await transitionRun(db, run.id, from, to, { prUrl: to === 'pr_opened' ? 'https://example.com/pr/1' : undefined });
  }
  return run.id;
}

describe('what happens to an opened draft comes back to its run', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ db: 'postgres', github: true });
  });
  afterAll(async () => app.close());

  it('records a merged GitHub PR once, however often the delivery comes', async () => {
    const runId = await openedRun(app, 'github');
    const payload = githubExample('pull_request', 'closed');
    payload.pull_request.head.ref = `userz/${runId}`;
    payload.pull_request.merged = true;
    const deliveryId = randomUUID();
    for (let i = 0; i < 3; i++)
      expect((await sendGitHubWebhook(app.url, 'pull_request', payload, { secret: TEST_WEBHOOK_SECRET, deliveryId })).status).toBe(200);
    expect((await getRun(app.deps.store.db, runId))!.reviewState).toBe('merged');
    expect(await listAudit(app.deps.store.db, { subject: runId, action: 'run.review.merged' })).toHaveLength(1);
  });

  it('checks X-Gitlab-Token against the project secret and de-duplicates by Idempotency-Key', async () => {
    const secret = 'gitlab-hook-secret-0001';
    const runId = await openedRun(app, 'gitlab', secret);
    const body = structuredClone(mergeRequestEvent) as typeof mergeRequestEvent & { object_attributes: Record<string, unknown> };
    body.object_attributes.source_branch = `userz/${runId}`;
    body.object_attributes.action = 'merge';
    body.object_attributes.state = 'merged';
    const post = (token: string, key: string) =>
      fetch(`${app.url}/api/gitlab/webhooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-gitlab-token': token, 'x-gitlab-event': 'Merge Request Hook', 'idempotency-key': key },
        body: JSON.stringify(body),
      });

    const bad = await post('not-the-secret', randomUUID());
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ error: { code: 'bad_signature' } });
    expect((await getRun(app.deps.store.db, runId))!.reviewState).toBeNull();

    const key = randomUUID();
    expect((await post(secret, key)).status).toBe(200);
    expect((await post(secret, key)).status).toBe(200);
    expect((await getRun(app.deps.store.db, runId))!.reviewState).toBe('merged');
    expect(await listAudit(app.deps.store.db, { subject: runId, action: 'run.review.merged' })).toHaveLength(1);
  });
});

describe("a draft's review state is recorded only from the run's own repository", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ db: 'postgres', github: true });
  });
  afterAll(async () => app.close());

  const mergeBody = (runId: string, projectId: number) => {
    const body = structuredClone(mergeRequestEvent) as typeof mergeRequestEvent & {
      object_attributes: Record<string, unknown>;
      project: Record<string, unknown>;
    };
    body.project.id = projectId;
    body.object_attributes.source_project_id = body.object_attributes.target_project_id = projectId;
    body.object_attributes.source_branch = `userz/${runId}`;
    body.object_attributes.action = 'merge';
    body.object_attributes.state = 'merged';
    return body;
  };
  const postGitLab = (body: unknown, token: string) =>
    fetch(`${app.url}/api/gitlab/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-gitlab-token': token, 'x-gitlab-event': 'Merge Request Hook', 'idempotency-key': randomUUID() },
      body: JSON.stringify(body),
    });

  it("ignores a GitHub PR in another org's repository whose branch names this run", async () => {
    const runId = await openedRun(app, 'github', undefined, { org: 'org-a', externalId: '186853002' });
    // Org B's own repository (installed the same App) opens and merges a PR from branch userz/<A's run>.
    const payload = githubExample('pull_request', 'closed');
    payload.pull_request.head.ref = `userz/${runId}`;
    payload.pull_request.merged = true;
    payload.pull_request.base.repo.id = payload.pull_request.head.repo.id = 999000111;
    payload.repository.id = 999000111;
    expect((await sendGitHubWebhook(app.url, 'pull_request', payload, { secret: TEST_WEBHOOK_SECRET, deliveryId: randomUUID() })).status).toBe(200);
    expect((await getRun(app.deps.store.db, runId))!.reviewState).toBeNull();
    expect(await listAudit(app.deps.store.db, { subject: runId, action: 'run.review.merged' })).toHaveLength(0);
  });

  it("ignores a GitLab MR event signed with another org's project secret that names this run", async () => {
    const runId = await openedRun(app, 'gitlab', 'org-a-hook-secret-0001', { org: 'org-a', externalId: '4242' });
    const orgB = await createTestOrg(app.deps.store.db, app.deps.vault, 'org-b');
    const secretB = 'org-b-hook-secret-0001';
    await upsertRepo(
      app.deps.store.db,
      {
        orgId: orgB,
        forge: 'gitlab',
        externalId: '5151',
        fullName: 'org-b/app',
        webhookSecretId: await app.deps.vault.storeSecret(orgB, 'gitlab_webhook_secret', secretB),
      },
      'test',
    );
    expect((await postGitLab(mergeBody(runId, 5151), secretB)).status).toBe(200);
    expect((await getRun(app.deps.store.db, runId))!.reviewState).toBeNull();
  });

  it('ignores a GitLab MR event from the same project id on another GitLab instance', async () => {
    const runId = await openedRun(app, 'gitlab', 'org-a-hook-secret-0002', { org: 'org-a2', externalId: '6161' });
    // Org B's self-hosted GitLab has a project with the same numeric id, registered with B's secret.
    const orgB = await createTestOrg(app.deps.store.db, app.deps.vault, 'org-b2');
    const secretB = 'org-b-hook-secret-0002';
    await upsertRepo(
      app.deps.store.db,
      {
        orgId: orgB,
        forge: 'gitlab',
        externalId: '6161',
        baseUrl: 'https://gitlab.org-b.example',
        fullName: 'org-b/app',
        webhookSecretId: await app.deps.vault.storeSecret(orgB, 'gitlab_webhook_secret', secretB),
      },
      'test',
    );
    expect((await postGitLab(mergeBody(runId, 6161), secretB)).status).toBe(200);
    expect((await getRun(app.deps.store.db, runId))!.reviewState).toBeNull();
    // The run's own project secret still records it.
    expect((await postGitLab(mergeBody(runId, 6161), 'org-a-hook-secret-0002')).status).toBe(200);
    expect((await getRun(app.deps.store.db, runId))!.reviewState).toBe('merged');
  });
});
