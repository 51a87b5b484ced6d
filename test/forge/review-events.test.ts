import { randomUUID } from 'node:crypto';
import mergeRequestEvent from '../fixtures/forge/gitlab-merge-request-event.json' with { type: 'json' };
import { createApp } from '../../src/intake/index.js';
import { getRun, insertRun, transitionRun } from '../../src/pipeline/index.js';
import { listAudit, newId, upsertRepo, type Db } from '../../src/store/index.js';
import { startTestApp, TEST_WEBHOOK_SECRET, type TestApp } from '../helpers/app.js';
import { githubExample, sendGitHubWebhook } from '../helpers/github.js';
import { createTestOrg } from '../helpers/db.js';

/** A run whose draft is open, as delivery leaves it. */
async function openedRun(app: TestApp, forge: 'github' | 'gitlab', webhookSecret?: string): Promise<string> {
  const db: Db = app.deps.store.db;
  const orgId = await createTestOrg(db, app.deps.vault, `acme-${forge}`);
  const webhookSecretId = webhookSecret ? await app.deps.vault.storeSecret(orgId, 'gitlab_webhook_secret', webhookSecret) : null;
  const repo = await upsertRepo(db, { orgId, forge, externalId: forge === 'gitlab' ? String(mergeRequestEvent.project.id) : '186853002', fullName: 'acme/app', webhookSecretId }, 'test');
  const product = await createApp(db, app.deps.vault, { orgId, name: 'Shop', origins: [], repoId: repo.id, actor: 'test' });
  const batchId = newId('bat');
  await db.query(`INSERT INTO batches (id, app_id, fingerprint, open_until) VALUES ($1, $2, 'x', now())`, [batchId, product.app.id]);
  const run = await insertRun(db, { orgId, appId: product.app.id, batchId, repoId: repo.id, state: 'queued' });
  for (const [from, to] of [['queued', 'triaged'], ['triaged', 'running'], ['running', 'checking'], ['checking', 'pr_opened']] as const) {
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
    for (let i = 0; i < 3; i++) expect((await sendGitHubWebhook(app.url, 'pull_request', payload, { secret: TEST_WEBHOOK_SECRET, deliveryId })).status).toBe(200);
    expect((await getRun(app.deps.store.db, runId))!.reviewState).toBe('merged');
    expect((await listAudit(app.deps.store.db, { subject: runId, action: 'run.review.merged' }))).toHaveLength(1);
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
