/**
 * Follow-ups from review by mention (issue 18): a review comment that mentions the App
 * (`@<GITHUB_APP_SLUG>`) or an MR note that mentions `@<USERZ_GITLAB_BOT_USERNAME>` asks
 * as `/userz` does, under the same rules: write access checked with the forge, bots and
 * non-writers ignored and audited, at most three per draft. A lookalike name asks nothing,
 * the App's own comment that names it never loops, and without the setting only `/userz`
 * asks. Payloads are GitHub's own examples, signed with the App's webhook secret; GitHub
 * and GitLab are nock'd strictly.
 */
import { randomUUID } from 'node:crypto';
import nock from 'nock';
import { createApp } from '../../src/intake/index.js';
import { insertRun, transitionRun } from '../../src/pipeline/index.js';
import { listAudit, listFollowUpRequests, newId, upsertRepo, type Db, type UpsertRepo } from '../../src/store/index.js';
import { startTestApp, TEST_WEBHOOK_SECRET, type TestApp } from '../helpers/app.js';
import { createTestOrg } from '../helpers/db.js';
import { expectCollaboratorPermission, githubExample, sendGitHubWebhook } from '../helpers/github.js';

const API = 'https://api.github.com';
const TOKEN = 'ghs_mentionRunScopedToken00000000000000';
const REPO_ID = 186853002;
const SLUG = 'userz-app';

/** A run whose draft (PR or MR `pr`) is open, in a new org whose repo `repoOf` describes. */
async function openedDraft(app: TestApp, pr: number, repoOf: (orgId: string) => Promise<UpsertRepo>) {
  const db: Db = app.deps.store.db;
  const orgId = await createTestOrg(db, app.deps.vault, `mention-${randomUUID().slice(0, 8)}`);
  const stored = await upsertRepo(db, await repoOf(orgId), 'test');
  const product = await createApp(db, app.deps.vault, { orgId, name: 'Shop', origins: [], repoId: stored.id, actor: 'test' });
  const batchId = newId('bat');
  await db.query(`INSERT INTO batches (id, app_id, fingerprint, open_until) VALUES ($1, $2, 'x', now())`, [batchId, product.app.id]);
  const run = await insertRun(db, { orgId, appId: product.app.id, batchId, repoId: stored.id, state: 'queued' });
  for (const [from, to] of [
    ['queued', 'triaged'],
    ['triaged', 'running'],
    ['running', 'checking'],
    ['checking', 'pr_opened'],
  ] as const) {
    await transitionRun(db, run.id, from, to, to === 'pr_opened' ? { prUrl: `https://forge.example/acme/app/pull/${pr}`, prNumber: pr } : {});
  }
  return { runId: run.id, orgId };
}

/** The follow-up jobs queued for a draft's requests (what the worker would run). */
async function followUpJobs(db: Db, runId: string): Promise<number> {
  const rows = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM jobs j JOIN followup_requests f ON j.key = 'followup:' || f.id WHERE j.kind = 'followup' AND f.source_run_id = $1`,
    [runId],
  );
  return Number(rows[0]!.n);
}

/** A review comment (GitHub's example payload) on PR `pr`, by `sender`. */
function reviewComment(pr: number, body: string, sender: { login: string; id: number; type: string }): Record<string, unknown> {
  const payload = githubExample('pull_request_review_comment', 'created');
  payload.repository.id = REPO_ID;
  payload.pull_request.number = pr;
  payload.installation = { id: 99 };
  payload.sender = { ...payload.sender, ...sender };
  payload.comment = { ...payload.comment, body, path: 'src/total.js', line: 3, user: payload.sender };
  return payload;
}

const MAINT = { login: 'maint', id: 1001, type: 'User' };

/** The run-scoped token (minted and revoked around the check) and GitHub's permission answer. */
const expectPermission = (login: string, id: number, answer: { permission: string; role_name: string }) =>
  expectCollaboratorPermission({ api: API, token: TOKEN, repoId: REPO_ID, repo: 'acme/app' }, login, id, answer);

const send = (app: TestApp, payload: unknown) =>
  sendGitHubWebhook(app.url, 'pull_request_review_comment', payload, { secret: TEST_WEBHOOK_SECRET, deliveryId: randomUUID() });

function strictNock() {
  beforeAll(() => {
    nock.disableNetConnect();
    nock.enableNetConnect((host) => host.startsWith('127.0.0.1'));
  });
  afterEach(() => {
    expect(nock.pendingMocks()).toEqual([]);
    nock.cleanAll();
  });
  afterAll(() => nock.enableNetConnect());
}

describe('follow-ups by mention on GitHub', () => {
  let app: TestApp;
  strictNock();
  beforeAll(async () => {
    app = await startTestApp({ db: 'pglite', github: true, env: { GITHUB_APP_SLUG: SLUG } });
  });
  afterAll(async () => app.close());
  const draft = (pr: number) =>
    openedDraft(app, pr, async (orgId) => ({ orgId, forge: 'github', externalId: String(REPO_ID), fullName: 'acme/app', installationId: 99 }));

  it("a writer's mention queues a follow-up with the words around it, and the fourth is answered like /userz's", async () => {
    const { runId, orgId } = await draft(11);
    const comments: string[] = [];
    for (let i = 1; i <= 4; i++) {
      expectPermission('maint', 1001, { permission: 'write', role_name: 'write' });
      const gh = nock(API, { reqheaders: { authorization: `token ${TOKEN}` } });
      if (i === 1) gh.post('/repos/acme/app/issues/11/comments', (b: { body: string }) => comments.push(b.body) > 0).reply(201, { id: 700 });
      else if (i <= 3) gh.patch('/repos/acme/app/issues/comments/700', (b: { body: string }) => comments.push(b.body) > 0).reply(200, { id: 700 });
      else gh.post('/repos/acme/app/issues/11/comments', (b: { body: string }) => comments.push(b.body) > 0).reply(201, { id: 701 });
      expect((await send(app, reviewComment(11, `Thanks @Userz-App, round ${i}: keep negative prices at zero`, MAINT))).status).toBe(200);
    }
    expect(comments[0]).toMatch(/^\*\*Userz follow-up 1 of 3\*\*: queued\./);
    expect(comments[3]).toMatch(/^Userz did not start a follow-up: this draft already had 3/);
    expect(comments.join('\n')).not.toContain('negative prices');
    const requests = await listFollowUpRequests(app.deps.store.db, orgId, runId);
    expect(requests.map((r) => [r.trigger, r.decision, r.permission, r.feedback])).toEqual([
      ['mention', 'queued', 'write', 'src/total.js:3: Thanks round 1: keep negative prices at zero'],
      ['mention', 'queued', 'write', 'src/total.js:3: Thanks round 2: keep negative prices at zero'],
      ['mention', 'queued', 'write', 'src/total.js:3: Thanks round 3: keep negative prices at zero'],
      ['mention', 'limit_reached', 'write', null],
    ]);
    expect(await followUpJobs(app.deps.store.db, runId)).toBe(3);
  });

  it('a lookalike name, an address or a mention in code asks nothing and asks GitHub nothing', async () => {
    const { runId, orgId } = await draft(12);
    for (const body of ['@userz-app-other please fix', 'mail foo@userz-app.com about it', 'see `@userz-app`', '@userz-app/reviewers look']) {
      expect((await send(app, reviewComment(12, body, MAINT))).status).toBe(200);
    }
    expect(await listFollowUpRequests(app.deps.store.db, orgId, runId)).toEqual([]);
    expect(await followUpJobs(app.deps.store.db, runId)).toBe(0);
  });

  it("a reader's mention does nothing but is audited, even when the name says maintainer", async () => {
    const { runId, orgId } = await draft(13);
    expectPermission('the-maintainer', 2002, { permission: 'read', role_name: 'read' });
    expect((await send(app, reviewComment(13, '@userz-app rewrite the checkout', { login: 'the-maintainer', id: 2002, type: 'User' }))).status).toBe(200);
    expect((await listFollowUpRequests(app.deps.store.db, orgId, runId)).map((r) => [r.trigger, r.decision, r.permission, r.feedback])).toEqual([
      ['mention', 'ignored_not_writer', 'read', null],
    ]);
    const audit = await listAudit(app.deps.store.db, { subject: runId });
    expect(audit.filter((a) => a.action.startsWith('run.followup.')).map((a) => [a.actor, a.action, a.data])).toEqual([
      ['github-user:2002', 'run.followup.ignored_not_writer', { login: 'the-maintainer', trigger: 'mention', permission: 'read' }],
    ]);
    expect(await followUpJobs(app.deps.store.db, runId)).toBe(0);
  });

  it("the App's own comment that names it never asks it: no permission lookup, no comment, no job", async () => {
    const { runId, orgId } = await draft(14);
    const own = { login: `${SLUG}[bot]`, id: 9_000_001, type: 'Bot' };
    expect((await send(app, reviewComment(14, `**Userz follow-up 1 of 3**: queued. @${SLUG} will post here.`, own))).status).toBe(200);
    // Even were GitHub's account type missing, the App's own login never asks (a name only ever takes asking away).
    expect((await send(app, reviewComment(14, `@${SLUG} done`, { ...own, type: 'User' }))).status).toBe(200);
    expect((await listFollowUpRequests(app.deps.store.db, orgId, runId)).map((r) => [r.author, r.decision])).toEqual([
      [`${SLUG}[bot]`, 'ignored_bot'],
      [`${SLUG}[bot]`, 'ignored_bot'],
    ]);
    expect(await followUpJobs(app.deps.store.db, runId)).toBe(0);
  });
});

describe('follow-ups on GitHub without GITHUB_APP_SLUG', () => {
  let app: TestApp;
  strictNock();
  beforeAll(async () => {
    app = await startTestApp({ db: 'pglite', github: true });
  });
  afterAll(async () => app.close());

  it('a mention asks nothing, and /userz still asks', async () => {
    const { runId, orgId } = await openedDraft(app, 15, async (orgId) => ({
      orgId,
      forge: 'github',
      externalId: String(REPO_ID),
      fullName: 'acme/app',
      installationId: 99,
    }));
    expect((await send(app, reviewComment(15, '@userz-app keep negative prices at zero', MAINT))).status).toBe(200);
    expect(await listFollowUpRequests(app.deps.store.db, orgId, runId)).toEqual([]);

    expectPermission('maint', 1001, { permission: 'admin', role_name: 'admin' });
    nock(API, { reqheaders: { authorization: `token ${TOKEN}` } })
      .post('/repos/acme/app/issues/15/comments')
      .reply(201, { id: 800 });
    expect((await send(app, reviewComment(15, '/userz keep negative prices at zero', MAINT))).status).toBe(200);
    expect((await listFollowUpRequests(app.deps.store.db, orgId, runId)).map((r) => [r.trigger, r.decision, r.feedback])).toEqual([
      ['command', 'queued', 'src/total.js:3: keep negative prices at zero'],
    ]);
    expect(await followUpJobs(app.deps.store.db, runId)).toBe(1);
  });
});

describe('follow-ups by mention on GitLab', () => {
  const HOST = 'https://gitlab.example.com';
  const P = `/api/v4/projects/${REPO_ID}`;
  const GL_TOKEN = 'glpat-mention-project-token';
  const HOOK_SECRET = 'gitlab-mention-hook-secret-01';
  const BOT = 'userz-bot';
  let app: TestApp;
  strictNock();
  beforeAll(async () => {
    app = await startTestApp({ db: 'pglite', env: { USERZ_GITLAB_BOT_USERNAME: BOT } });
  });
  afterAll(async () => app.close());

  const openedMr = (iid: number) =>
    openedDraft(app, iid, async (orgId) => ({
      orgId,
      forge: 'gitlab',
      externalId: String(REPO_ID),
      fullName: 'acme/app',
      baseUrl: HOST,
      tokenSecretId: await app.deps.vault.storeSecret(orgId, 'gitlab_token', GL_TOKEN),
      webhookSecretId: await app.deps.vault.storeSecret(orgId, 'gitlab_webhook_secret', HOOK_SECRET),
    }));

  /** A Note Hook payload in GitLab's documented shape, on MR `iid`. */
  const note = (iid: number, user: { id: number; username: string }, text: string) => ({
    object_kind: 'note',
    event_type: 'note',
    user: { id: user.id, name: user.username, username: user.username, avatar_url: null },
    project_id: REPO_ID,
    project: { id: REPO_ID, name: 'app', path_with_namespace: 'acme/app', web_url: `${HOST}/acme/app` },
    object_attributes: { id: 1234 + iid, note: text, noteable_type: 'MergeRequest', system: false, url: `${HOST}/acme/app/-/merge_requests/${iid}#note_1` },
    merge_request: { id: 99, iid, source_branch: 'userz/x', source_project_id: REPO_ID, target_project_id: REPO_ID, state: 'opened' },
  });
  const post = (body: unknown) =>
    fetch(`${app.url}/api/gitlab/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-gitlab-token': HOOK_SECRET, 'x-gitlab-event': 'Note Hook', 'idempotency-key': randomUUID() },
      body: JSON.stringify(body),
    });
  const gitlab = () => nock(HOST, { reqheaders: { 'private-token': GL_TOKEN } });

  it("a Developer's mention queues; a Reporter's is audited; a lookalike and the bot's own note ask nothing of GitLab", async () => {
    const { runId, orgId } = await openedMr(21);
    gitlab().get(`${P}/members/all/501`).reply(200, { id: 501, username: 'dev', access_level: 30, state: 'active' });
    const notes: string[] = [];
    gitlab()
      .post(`${P}/merge_requests/21/notes`, (b: { body: string }) => notes.push(b.body) > 0)
      .reply(201, { id: 901 });
    expect((await post(note(21, { id: 501, username: 'dev' }, '@Userz-Bot keep the old rounding for refunds'))).status).toBe(200);

    gitlab().get(`${P}/members/all/502`).reply(200, { id: 502, username: 'rep', access_level: 20, state: 'active' });
    expect((await post(note(21, { id: 502, username: 'rep' }, 'hey @userz-bot rewrite everything'))).status).toBe(200);

    expect((await post(note(21, { id: 501, username: 'dev' }, 'ask @userz-bot-old or mail me@userz-bot.example'))).status).toBe(200);
    expect((await post(note(21, { id: 777, username: BOT }, `**Userz follow-up 1 of 3**: queued. @${BOT}`))).status).toBe(200);

    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/^\*\*Userz follow-up 1 of 3\*\*: queued\./);
    expect((await listFollowUpRequests(app.deps.store.db, orgId, runId)).map((r) => [r.author, r.trigger, r.decision, r.permission, r.feedback])).toEqual([
      ['dev', 'mention', 'queued', 'developer', 'keep the old rounding for refunds'],
      ['rep', 'mention', 'ignored_not_writer', 'reporter', null],
      [BOT, 'mention', 'ignored_bot', null, null],
    ]);
    const audit = await listAudit(app.deps.store.db, { subject: runId });
    expect(audit.filter((a) => a.action.startsWith('run.followup.')).map((a) => [a.actor, a.action])).toEqual([
      ['gitlab-user:501', 'run.followup.queued'],
      ['gitlab-user:502', 'run.followup.ignored_not_writer'],
      ['gitlab-user:777', 'run.followup.ignored_bot'],
    ]);
    expect(await followUpJobs(app.deps.store.db, runId)).toBe(1);
  });
});
