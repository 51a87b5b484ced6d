/**
 * A follow-up from review is done once and paid for like a first run (issue 18 review):
 * - a follow-up whose push landed but whose job died before recording it does not push a
 *   second commit when it is retried: the retry reads the branch head, finds its own commit
 *   (Userz-Run and Userz-Follow-Up trailers), records `pushed` with it and ends without a
 *   sandbox or a model call; on GitHub and on GitLab, nock'd strictly;
 * - a follow-up places the run's hold on the org's month before the agent runs (it is open
 *   while the job is in flight), its model calls are the org's ledger rows, and the hold is
 *   settled to the follow-up's spend when it ends;
 * - a follow-up of an org over its monthly cap ends `failed` with `budget_exhausted` (the
 *   first run's reason), the progress comment says so, and nothing is pushed or run.
 * Real Postgres, a real gVisor sandbox, a scripted model.
 */
import { jest } from '@jest/globals';
import nock from 'nock';
import { getUsage, setCaps } from '../../src/billing/index.js';
import { ScriptedModelClient } from '../../src/model/index.js';
import type { PipelineDeps } from '../../src/pipeline/index.js';
import { executeFollowUp } from '../../src/pipeline/followup-run.js';
import { DockerRunscDriver, type SandboxDriver } from '../../src/sandbox/index.js';
import {
  getHold,
  insertFollowUpRequest,
  listAudit,
  listFollowUpRequests,
  saveProgressComment,
  upsertRepo,
  type Db,
  type Queryable,
} from '../../src/store/index.js';
import { seedApp, seedRun } from '../billing/seed.js';
import { startTestApp, testGitHubApp, type TestApp } from '../helpers/app.js';
import { createTestOrg } from '../helpers/db.js';
import { prepareSandboxEngine, testSandboxConfig } from '../sandbox/engine.js';
import { API, APP_JS_FIXED, APP_JS_NEGATIVE, BASE, REPO, TOKEN, expectFollowUpPush, expectTokenMintAndRevoke, repoTarGz } from './scenario.js';

jest.setTimeout(240_000);

const HEAD = 'b'.repeat(40);
const PUSHED = 'c'.repeat(40);
const GL_HOST = 'https://gitlab.example.com';
const GL_P = '/api/v4/projects/42';
const GL_TOKEN = 'glpat-followup-retry-token';
const json = { 'content-type': 'application/json' };
const DEFAULTS = { maxTurns: 20, maxInputTokens: 200_000, maxOutputTokens: 50_000, maxCostUsd: 1 };

/** The follow-up's agent: one edit, one summary, each call metered at gpt-4.1's price. */
const followUpAgent = () =>
  new ScriptedModelClient(
    [
      {
        toolCalls: [{ id: 'call_0', name: 'edit_file', arguments: { path: 'src/total.js', search: 's + i.price', replace: 's + Math.max(0, i.price)' } }],
        usage: { inputTokens: 20_000, outputTokens: 1_000 },
      },
      { content: 'Negative prices now count as zero, as the review asked.', usage: { inputTokens: 21_000, outputTokens: 500 } },
    ],
    'gpt-4.1',
  );

/** The store with one failure: the first write of outcome `pushed` throws, as if the worker died right after the push. */
function diesBeforeRecordingPushed(db: Db): Db {
  let armed = true;
  const guard = (q: Queryable): Queryable => ({
    query: async (sql, params) => {
      if (armed && /UPDATE followup_requests SET outcome/.test(sql) && params?.[1] === 'pushed') {
        armed = false;
        throw new Error('the worker died after the push');
      }
      return q.query(sql, params);
    },
  });
  const wrapped = Object.create(db) as Db & { query: Queryable['query'] };
  wrapped.query = guard(db).query;
  (wrapped as { transaction: Db['transaction'] }).transaction = (fn) => db.transaction((tx) => fn(guard(tx)));
  return wrapped;
}

/** A sandbox driver that counts what it acquires. */
function counting(driver: SandboxDriver): SandboxDriver & { acquired: number } {
  const counted = Object.create(driver) as SandboxDriver & { acquired: number };
  counted.acquired = 0;
  counted.acquire = async (...args: Parameters<SandboxDriver['acquire']>) => {
    counted.acquired += 1;
    return driver.acquire(...args);
  };
  return counted;
}

interface Draft {
  orgId: string;
  runId: string;
  requestId: string;
  branch: string;
}

describe('follow-ups are done once and paid for like first runs (Postgres, real sandbox)', () => {
  let sandbox: SandboxDriver;
  let app: TestApp;
  let db: Db;

  beforeAll(async () => {
    prepareSandboxEngine();
    sandbox = await DockerRunscDriver.open(testSandboxConfig('followup-retry'));
    app = await startTestApp({ db: 'postgres', github: testGitHubApp(), pipeline: { budget: DEFAULTS } });
    db = app.deps.store.db;
  });
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending).toEqual([]);
  });
  afterAll(async () => {
    await app?.close();
    await sandbox?.close();
  });

  /** A draft of the org (pr_opened, #7, its branch) on `forge`, with one queued follow-up whose `queued` comment was written. */
  async function seedDraft(forge: 'github' | 'gitlab'): Promise<Draft> {
    const orgId = await createTestOrg(db, app.deps.vault, `fu-${forge}`);
    const repo =
      forge === 'github'
        ? await upsertRepo(db, { orgId, forge, externalId: '777', fullName: 'acme/app', installationId: 99, defaultBranch: 'main' }, 'test')
        : await upsertRepo(
            db,
            {
              orgId,
              forge,
              externalId: '42',
              fullName: 'acme/app',
              baseUrl: GL_HOST,
              defaultBranch: 'main',
              tokenSecretId: await app.deps.vault.storeSecret(orgId, 'gitlab_token', GL_TOKEN),
            },
            'test',
          );
    const runId = await seedRun(db, orgId, await seedApp(db, orgId), 'pr_opened', repo.id);
    const branch = `userz/${runId}`;
    await db.query('UPDATE runs SET branch = $2, pr_number = 7, base_commit = $3 WHERE id = $1', [runId, branch, BASE]);
    const requestId = (await insertFollowUpRequest(db, {
      orgId,
      sourceRunId: runId,
      forge,
      deliveryId: `d-${runId}`,
      trigger: 'review',
      author: 'maint',
      permission: 'write',
      decision: 'queued',
      feedback: 'Please also treat negative prices as zero.',
    }))!;
    // Queued two minutes ago: a retry does not wait for the webhook's `queued` edit.
    await db.query("UPDATE followup_requests SET created_at = now() - interval '2 minutes' WHERE id = $1", [requestId]);
    await saveProgressComment(db, runId, '555', 'queued');
    return { orgId, runId, requestId, branch };
  }

  const deps = (over: Partial<PipelineDeps>): PipelineDeps => ({ ...app.deps.pipeline, budget: DEFAULTS, ...over });

  async function requestOf(d: Draft) {
    const [row] = await listFollowUpRequests(db, d.orgId, d.runId);
    return row!;
  }

  /** What GitHub sees of one attempt: its two tokens, the progress comment edits, and what the caller adds. */
  function githubAttempt(comments: string[], edits: number): nock.Scope {
    expectTokenMintAndRevoke(); // the review session (comments)
    expectTokenMintAndRevoke(); // the run session (branch, archive, push)
    const gh = nock(API, { reqheaders: { authorization: `token ${TOKEN}` } });
    gh.patch(`${REPO}/issues/comments/555`, (b: { body: string }) => comments.push(b.body.split('\n')[0]!) > 0)
      .times(edits)
      .reply(200, { id: 555 });
    return gh;
  }

  const branchPath = (branch: string) => (p: string) => p === `${REPO}/branches/${encodeURIComponent(branch)}`;

  it('GitHub: a retry after a push that was not recorded records that commit and pushes nothing; the first attempt pushed once', async () => {
    const d = await seedDraft('github');
    const agent = followUpAgent();
    const driver = counting(sandbox);
    const comments: string[] = [];
    const commits: Array<{ message: string; parents: string[] }> = [];

    // Attempt 1: the branch head is the first run's commit, so the follow-up runs and pushes one commit, then "dies".
    // The head is read once: the archive is that commit's, by its id.
    const scope = githubAttempt(comments, 1)
      .get(branchPath(d.branch))
      .reply(200, { name: d.branch, commit: { sha: HEAD, commit: { message: `Fix the total\n\nUserz-Run: ${d.runId}` } } });
    await expectFollowUpPush(scope, {
      head: HEAD,
      branch: d.branch,
      content: APP_JS_NEGATIVE,
      pushed: PUSHED,
      onCommit: (b) => commits.push(b) > 0,
      onRefMove: (b) => b.sha === PUSHED && b.force === false,
    });

    const dying = deps({ db: diesBeforeRecordingPushed(db), agent, sandbox: driver });
    await expect(executeFollowUp(dying, d.requestId, { finalAttempt: false })).rejects.toThrow('the worker died after the push');
    expect(commits).toHaveLength(1);
    expect(commits[0]!.parents).toEqual([HEAD]);
    expect(commits[0]!.message.split('\n\n').at(-1)).toBe(`Userz-Run: ${d.runId}\nUserz-Follow-Up: 1`);
    expect((await requestOf(d)).outcome).toBe('running');
    // The follow-up's hold, placed before the agent ran, is still open: the job did not end.
    expect(await getHold(db, d.runId)).toMatchObject({ settledAt: null, costUsd: DEFAULTS.maxCostUsd });
    expect([driver.acquired, agent.requests.length]).toEqual([1, 2]);
    expect(nock.pendingMocks()).toEqual([]);

    // Attempt 2: the head is the commit attempt 1 pushed. Only the head is read: no archive, no blob, no commit, no ref.
    githubAttempt(comments, 2)
      .get(branchPath(d.branch))
      .reply(200, { name: d.branch, commit: { sha: PUSHED, commit: { message: commits[0]!.message } } });
    await expect(executeFollowUp(deps({ agent, sandbox: driver }), d.requestId, { finalAttempt: false })).resolves.toEqual({ kind: 'done' });

    const request = await requestOf(d);
    expect([request.outcome, request.outcomeReason, request.commitSha]).toEqual(['pushed', null, PUSHED]);
    expect(commits).toHaveLength(1);
    expect([driver.acquired, agent.requests.length]).toEqual([1, 2]);
    expect(comments).toEqual([
      '**Userz follow-up 1 of 3**: running.',
      '**Userz follow-up 1 of 3**: running.',
      `**Userz follow-up 1 of 3**: done, commit ${PUSHED.slice(0, 12)} pushed to the draft.`,
    ]);
    const found = await listAudit(db, { subject: d.runId, action: 'run.followup.push_found' });
    expect(found.map((e) => e.data)).toEqual([{ commit: PUSHED, ordinal: 1 }]);

    // The follow-up's spend: the org's ledger rows of the run, and the hold settled to exactly them.
    const ledger = await db.query<{ org_id: string; purpose: string; cost_usd: string; tokens: string }>(
      'SELECT org_id, purpose, cost_usd, (input_tokens + output_tokens) AS tokens FROM spend_ledger WHERE run_id = $1 ORDER BY id',
      [d.runId],
    );
    expect(ledger.map((r) => [r.org_id, r.purpose, Number(r.tokens)])).toEqual([
      [d.orgId, 'agent', 21_000],
      [d.orgId, 'agent', 21_500],
    ]);
    const spent = ledger.reduce((sum, r) => sum + Number(r.cost_usd), 0);
    expect(spent).toBeGreaterThan(0);
    const [hold] = await db.query<{ settled_at: Date | null; settled_cost_usd: string; settled_tokens: string }>(
      'SELECT settled_at, settled_cost_usd, settled_tokens FROM spend_holds WHERE run_id = $1',
      [d.runId],
    );
    expect(hold!.settled_at).toBeInstanceOf(Date);
    expect([Number(hold!.settled_cost_usd), Number(hold!.settled_tokens)]).toEqual([Number(spent.toFixed(6)), 42_500]);
    const usage = await getUsage(db, d.orgId, { runCostCapUsd: 1, runTokenCap: 250_000 });
    expect(usage.spent.costUsd).toBeCloseTo(spent, 6);
    expect(usage.holds.count).toBe(0);
  });

  it('GitLab: a retry after a push that was not recorded records that commit and pushes nothing; the first attempt pushed once', async () => {
    const d = await seedDraft('gitlab');
    const agent = followUpAgent();
    const driver = counting(sandbox);
    const notes: string[] = [];
    const commits: Array<{ branch: string; commit_message: string }> = [];
    const gitlab = () => nock(GL_HOST, { reqheaders: { 'private-token': GL_TOKEN } });
    const branch = `${GL_P}/repository/branches/${encodeURIComponent(d.branch)}`;
    const editNotes = (times: number) =>
      gitlab()
        .put(`${GL_P}/merge_requests/7/notes/555`, (b: { body: string }) => notes.push(b.body.split('\n')[0]!) > 0)
        .times(times)
        .reply(200, { id: 555 }, json);

    // Attempt 1: the head check, the archive of that head by its id, the head check before the commit, then the commit.
    editNotes(1);
    gitlab()
      .get(branch)
      .times(2)
      .reply(200, { name: d.branch, commit: { id: HEAD, message: `Fix the total\n\nUserz-Run: ${d.runId}` } }, json);
    gitlab()
      .get(`${GL_P}/repository/archive.tar.gz`)
      .query({ sha: HEAD })
      .reply(200, await repoTarGz({ 'src/total.js': APP_JS_FIXED }));
    gitlab().get(`${GL_P}/repository/files/.userz.yml`).query({ ref: BASE }).reply(404, { message: '404 File Not Found' }, json);
    gitlab()
      .post(`${GL_P}/repository/commits`, (b: { branch: string; commit_message: string }) => commits.push(b) > 0 && b.branch === d.branch)
      .reply(201, { id: PUSHED, parent_ids: [HEAD] }, json);

    const dying = deps({ db: diesBeforeRecordingPushed(db), agent, sandbox: driver });
    await expect(executeFollowUp(dying, d.requestId, { finalAttempt: false })).rejects.toThrow('the worker died after the push');
    expect(commits).toHaveLength(1);
    expect(commits[0]!.commit_message.split('\n\n').at(-1)).toBe(`Userz-Run: ${d.runId}\nUserz-Follow-Up: 1`);
    expect([driver.acquired, agent.requests.length]).toEqual([1, 2]);
    expect(nock.pendingMocks()).toEqual([]);

    // Attempt 2: the head is that commit; nothing else is read or written.
    editNotes(2);
    gitlab()
      .get(branch)
      .reply(200, { name: d.branch, commit: { id: PUSHED, message: commits[0]!.commit_message } }, json);
    await expect(executeFollowUp(deps({ agent, sandbox: driver }), d.requestId, { finalAttempt: false })).resolves.toEqual({ kind: 'done' });

    const request = await requestOf(d);
    expect([request.outcome, request.commitSha]).toEqual(['pushed', PUSHED]);
    expect(commits).toHaveLength(1);
    expect([driver.acquired, agent.requests.length]).toEqual([1, 2]);
    expect(notes.at(-1)).toBe(`**Userz follow-up 1 of 3**: done, commit ${PUSHED.slice(0, 12)} pushed to the draft.`);
    expect(await listAudit(db, { subject: d.runId, action: 'run.followup.push_found' })).toHaveLength(1);
  });

  it('a follow-up of an org over its monthly cap fails with budget_exhausted, says so, and runs and pushes nothing', async () => {
    const d = await seedDraft('github');
    // The month fits less than one run's cap.
    await setCaps(db, d.orgId, { monthlyCostCapUsd: 0.5 }, 'test', { runCostCapUsd: 1, runTokenCap: 250_000 });
    const agent = followUpAgent();
    const driver = counting(sandbox);
    const comments: string[] = [];
    // Only the head is read; no archive, blob, tree, commit or ref mock: any of those would fail the test.
    githubAttempt(comments, 2)
      .get(branchPath(d.branch))
      .reply(200, { name: d.branch, commit: { sha: HEAD, commit: { message: `Fix the total\n\nUserz-Run: ${d.runId}` } } });

    await expect(executeFollowUp(deps({ agent, sandbox: driver }), d.requestId, { finalAttempt: false })).resolves.toEqual({ kind: 'done' });
    const request = await requestOf(d);
    expect([request.outcome, request.outcomeReason, request.commitSha]).toEqual(['failed', 'budget_exhausted', null]);
    expect(comments).toEqual([
      '**Userz follow-up 1 of 3**: running.',
      "**Userz follow-up 1 of 3**: failed (budget_exhausted): the organization's monthly spend cap is reached, nothing was pushed.",
    ]);
    expect([driver.acquired, agent.requests.length]).toEqual([0, 0]);
    expect(await getHold(db, d.runId)).toBeNull();
    const [failed] = await listAudit(db, { subject: d.runId, action: 'run.followup.failed' });
    expect(failed!.data).toEqual({ reason: 'budget_exhausted' });
  });
});
