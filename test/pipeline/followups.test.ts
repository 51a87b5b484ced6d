/**
 * Follow-ups from review (issue 18), GitHub: who may ask is checked with GitHub's
 * collaborator-permission API (never from a name or a `[bot]` suffix), bots and people
 * without write access are ignored and audited, at most three follow-ups are queued per
 * draft and a fourth is answered with a comment, and the queued ones share one progress
 * comment that Userz edits.
 */
import { randomUUID } from 'node:crypto';
import nock from 'nock';
import { createApp } from '../../src/intake/index.js';
import { insertRun, transitionRun } from '../../src/pipeline/index.js';
import { listAudit, listFollowUpRequests, newId, upsertRepo, type Db } from '../../src/store/index.js';
import { startTestApp, TEST_WEBHOOK_SECRET, type TestApp } from '../helpers/app.js';
import { createTestOrg } from '../helpers/db.js';
import { expectCollaboratorPermission, githubExample, sendGitHubWebhook } from '../helpers/github.js';

const API = 'https://api.github.com';
const TOKEN = 'ghs_followUpRunScopedToken0000000000000';
const REPO_ID = 186853002;
const PR = 7;

async function openedDraft(app: TestApp): Promise<{ runId: string; orgId: string }> {
  const db: Db = app.deps.store.db;
  const orgId = await createTestOrg(db, app.deps.vault, `acme-${randomUUID().slice(0, 8)}`);
  const repo = await upsertRepo(db, { orgId, forge: 'github', externalId: String(REPO_ID), fullName: 'acme/app', installationId: 99 }, 'test');
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
    await transitionRun(db, run.id, from, to, to === 'pr_opened' ? { prUrl: `https://github.com/acme/app/pull/${PR}`, prNumber: PR } : {});
  }
  return { runId: run.id, orgId };
}

/** A review that requests changes, by `sender`, on PR #7 of the repository. */
function review(sender: { login: string; id: number; type: string }, body = 'Please also handle negative prices.'): Record<string, unknown> {
  const payload = githubExample('pull_request_review', 'submitted', 1);
  payload.repository.id = REPO_ID;
  payload.pull_request.number = PR;
  payload.installation = { id: 99 };
  payload.sender = { ...payload.sender, ...sender };
  payload.review = { ...payload.review, state: 'changes_requested', body, user: payload.sender };
  return payload;
}

/** The run-scoped token (minted and revoked around the check) and GitHub's permission answer. */
const expectPermission = (login: string, id: number, answer: { permission: string; role_name: string }) =>
  expectCollaboratorPermission({ api: API, token: TOKEN, repoId: REPO_ID, repo: 'acme/app' }, login, id, answer);

const send = (app: TestApp, payload: unknown) =>
  sendGitHubWebhook(app.url, 'pull_request_review', payload, { secret: TEST_WEBHOOK_SECRET, deliveryId: randomUUID() });

describe('follow-ups from review on GitHub', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ db: 'pglite', github: true });
    nock.disableNetConnect();
    nock.enableNetConnect((host) => host.startsWith('127.0.0.1'));
  });
  afterEach(() => {
    expect(nock.pendingMocks()).toEqual([]);
    nock.cleanAll();
  });
  afterAll(async () => {
    nock.enableNetConnect();
    await app.close();
  });

  it('queues at most three from a writer, with one progress comment edited in place, and answers the fourth', async () => {
    const { runId, orgId } = await openedDraft(app);
    const comments: string[] = [];
    for (let i = 1; i <= 4; i++) {
      expectPermission('maint', 1001, { permission: 'write', role_name: 'maintain' });
      const gh = nock(API, { reqheaders: { authorization: `token ${TOKEN}` } });
      if (i === 1) gh.post(`/repos/acme/app/issues/${PR}/comments`, (b: { body: string }) => comments.push(b.body) > 0).reply(201, { id: 555 });
      else if (i <= 3) gh.patch('/repos/acme/app/issues/comments/555', (b: { body: string }) => comments.push(b.body) > 0).reply(200, { id: 555 });
      else gh.post(`/repos/acme/app/issues/${PR}/comments`, (b: { body: string }) => comments.push(b.body) > 0).reply(201, { id: 556 });
      expect((await send(app, review({ login: 'maint', id: 1001, type: 'User' }, `Round ${i}: handle negative prices.`))).status).toBe(200);
    }
    expect(comments.slice(0, 3).map((c) => c.split('\n')[0])).toEqual([
      '**Userz follow-up 1 of 3**: queued.',
      '**Userz follow-up 2 of 3**: queued.',
      '**Userz follow-up 3 of 3**: queued.',
    ]);
    expect(comments[0]).toContain(`/runs/${runId}`);
    expect(comments.join('\n')).not.toContain('negative prices');
    expect(comments[3]).toMatch(/^Userz did not start a follow-up: this draft already had 3/);
    const requests = await listFollowUpRequests(app.deps.store.db, orgId, runId);
    expect(requests.map((r) => [r.decision, r.permission, r.feedback])).toEqual([
      ['queued', 'maintain', 'Round 1: handle negative prices.'],
      ['queued', 'maintain', 'Round 2: handle negative prices.'],
      ['queued', 'maintain', 'Round 3: handle negative prices.'],
      ['limit_reached', 'maintain', null],
    ]);
  });

  it('ignores and audits a reader, even one whose name says maintainer, and a bot account, and writes no comment', async () => {
    const { runId, orgId } = await openedDraft(app);
    expectPermission('repo-maintainer', 2002, { permission: 'read', role_name: 'triage' });
    expect((await send(app, review({ login: 'repo-maintainer', id: 2002, type: 'User' }))).status).toBe(200);
    // An App's account: GitHub says `type: Bot` in the signed payload. No permission lookup, no comment.
    expect((await send(app, review({ login: 'helper[bot]', id: 3003, type: 'Bot' }))).status).toBe(200);
    const requests = await listFollowUpRequests(app.deps.store.db, orgId, runId);
    expect(requests.map((r) => [r.author, r.decision, r.feedback])).toEqual([
      ['repo-maintainer', 'ignored_not_writer', null],
      ['helper[bot]', 'ignored_bot', null],
    ]);
    const audit = await listAudit(app.deps.store.db, { subject: runId });
    expect(audit.filter((a) => a.action.startsWith('run.followup.')).map((a) => [a.actor, a.action])).toEqual([
      ['github-user:2002', 'run.followup.ignored_not_writer'],
      ['github-user:3003', 'run.followup.ignored_bot'],
    ]);
  });

  it('does not trust a login whose permission answer is about another account', async () => {
    const { runId, orgId } = await openedDraft(app);
    // The login was renamed and taken by account 4444 in between: GitHub's answer names 4444, the review was by 1001.
    expectPermission('maint', 4444, { permission: 'admin', role_name: 'admin' });
    const payload = review({ login: 'maint', id: 1001, type: 'User' });
    expect((await send(app, payload)).status).toBe(200);
    expect((await listFollowUpRequests(app.deps.store.db, orgId, runId)).map((r) => r.decision)).toEqual(['ignored_not_writer']);
  });

  it('ignores a review that neither requests changes nor starts with /userz, and a PR Userz did not open', async () => {
    const { runId, orgId } = await openedDraft(app);
    const approving = review({ login: 'maint', id: 1001, type: 'User' });
    (approving.review as Record<string, unknown>).state = 'approved';
    expect((await send(app, approving)).status).toBe(200);
    const elsewhere = review({ login: 'maint', id: 1001, type: 'User' });
    (elsewhere.pull_request as Record<string, unknown>).number = 8;
    expect((await send(app, elsewhere)).status).toBe(200);
    expect(await listFollowUpRequests(app.deps.store.db, orgId, runId)).toEqual([]);
  });
});

describe('follow-ups from review on GitLab', () => {
  const HOST = 'https://gitlab.example.com';
  const P = '/api/v4/projects/42';
  const GL_TOKEN = 'glpat-followup-project-token';
  const HOOK_SECRET = 'gitlab-followup-hook-secret-01';
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ db: 'pglite' });
    nock.disableNetConnect();
    nock.enableNetConnect((host) => host.startsWith('127.0.0.1'));
  });
  afterEach(() => {
    expect(nock.pendingMocks()).toEqual([]);
    nock.cleanAll();
  });
  afterAll(async () => {
    nock.enableNetConnect();
    await app.close();
  });

  async function openedMr(): Promise<{ runId: string; orgId: string }> {
    const db = app.deps.store.db;
    const orgId = await createTestOrg(db, app.deps.vault, `gl-${randomUUID().slice(0, 8)}`);
    const repo = await upsertRepo(
      db,
      {
        orgId,
        forge: 'gitlab',
        externalId: '42',
        fullName: 'acme/app',
        baseUrl: HOST,
        tokenSecretId: await app.deps.vault.storeSecret(orgId, 'gitlab_token', GL_TOKEN),
        webhookSecretId: await app.deps.vault.storeSecret(orgId, 'gitlab_webhook_secret', HOOK_SECRET),
      },
      'test',
    );
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
      await transitionRun(db, run.id, from, to, to === 'pr_opened' ? { prUrl: `${HOST}/acme/app/-/merge_requests/3`, prNumber: 3 } : {});
    }
    return { runId: run.id, orgId };
  }

  /** A Note Hook payload in GitLab's documented shape, on MR !3 of project 42. */
  const note = (user: { id: number; username: string }, text: string) => ({
    object_kind: 'note',
    event_type: 'note',
    user: { id: user.id, name: user.username, username: user.username, avatar_url: null },
    project_id: 42,
    project: { id: 42, name: 'app', path_with_namespace: 'acme/app', web_url: `${HOST}/acme/app` },
    object_attributes: { id: 1234, note: text, noteable_type: 'MergeRequest', system: false, url: `${HOST}/acme/app/-/merge_requests/3#note_1234` },
    merge_request: { id: 99, iid: 3, source_branch: 'userz/x', source_project_id: 42, target_project_id: 42, state: 'opened' },
  });
  const post = (body: unknown) =>
    fetch(`${app.url}/api/gitlab/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-gitlab-token': HOOK_SECRET, 'x-gitlab-event': 'Note Hook', 'idempotency-key': randomUUID() },
      body: JSON.stringify(body),
    });
  const gitlab = () => nock(HOST, { reqheaders: { 'private-token': GL_TOKEN } });

  it('queues a /userz note from a Developer with a progress note, and ignores a Reporter', async () => {
    const { runId, orgId } = await openedMr();
    gitlab().get(`${P}/members/all/501`).reply(200, { id: 501, username: 'dev', access_level: 30, state: 'active' });
    const notes: string[] = [];
    gitlab()
      .post(`${P}/merge_requests/3/notes`, (b: { body: string }) => notes.push(b.body) > 0)
      .reply(201, { id: 900 });
    expect((await post(note({ id: 501, username: 'dev' }, '/userz keep the old rounding for refunds'))).status).toBe(200);

    gitlab().get(`${P}/members/all/502`).reply(200, { id: 502, username: 'maintainer-bob', access_level: 20, state: 'active' });
    expect((await post(note({ id: 502, username: 'maintainer-bob' }, '/userz rewrite everything'))).status).toBe(200);
    // Not a command: nothing is asked of GitLab.
    expect((await post(note({ id: 501, username: 'dev' }, 'looks fine to me'))).status).toBe(200);

    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/^\*\*Userz follow-up 1 of 3\*\*: queued\./);
    const requests = await listFollowUpRequests(app.deps.store.db, orgId, runId);
    expect(requests.map((r) => [r.author, r.decision, r.permission, r.feedback])).toEqual([
      ['dev', 'queued', 'developer', 'keep the old rounding for refunds'],
      ['maintainer-bob', 'ignored_not_writer', 'reporter', null],
    ]);
  });
});
