/**
 * A whole customer set up for pipeline tests: org, GitHub repo (installation 99, repo 777,
 * acme/app), an App allowed on https://shop.example linked to it, and the nock
 * expectations GitHub must see for one run. Only what is outside this machine is mocked.
 */
import nock from 'nock';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { createApp } from '../../src/intake/index.js';
import { ScriptedModelClient } from '../../src/model/index.js';
import { getRunForBatch, type Run } from '../../src/pipeline/index.js';
import { upsertRepo, type Queryable } from '../../src/store/index.js';
import type { TestApp } from '../helpers/app.js';
import { createTestOrg } from '../helpers/db.js';

export const API = 'https://api.github.com';
export const REPO = '/repos/acme/app';
export const BASE = 'a'.repeat(40);
export const TOKEN = 'ghs_e2eruntoken0001';
export const ORIGIN = 'https://shop.example';
export const APP_JS = 'export function total(items) {\n  return items.reduce((s, i) => s + i.price, 0) + 1;\n}\n';
/** A follow-up's edit: negative prices count as zero. */
export const APP_JS_NEGATIVE = 'export function total(items) {\n  return items.reduce((s, i) => s + Math.max(0, i.price), 0);\n}\n';
export const APP_JS_FIXED = 'export function total(items) {\n  return items.reduce((s, i) => s + i.price, 0);\n}\n';

export async function setUpCustomer(app: TestApp): Promise<{ orgId: string; appId: string; publicKey: string; repoId: string }> {
  const { db } = app.deps.store;
  const orgId = await createTestOrg(db, app.deps.vault, 'acme');
  const repo = await upsertRepo(db, { orgId, forge: 'github', externalId: '777', fullName: 'acme/app', installationId: 99, defaultBranch: 'main' }, 'test');
  const created = await createApp(db, app.deps.vault, { orgId, name: 'Shop', origins: [ORIGIN], repoId: repo.id, actor: 'test' });
  return { orgId, appId: created.app.id, publicKey: created.publicKey, repoId: repo.id };
}

export async function repoTarGz(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  pack.on('data', (c: unknown) => void chunks.push(c as Buffer));
  pack.entry({ name: 'acme-app-aaaaaaa/', type: 'directory' });
  for (const [name, content] of Object.entries(files)) pack.entry({ name: `acme-app-aaaaaaa/${name}`, mode: 0o644 }, content);
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

/** Token minted for the one repo with exactly three permissions, and revoked at the end. */
export function expectTokenMintAndRevoke(): void {
  nock(API)
    .post('/app/installations/99/access_tokens', { repository_ids: [777], permissions: { contents: 'write', pull_requests: 'write', metadata: 'read' } })
    .reply(201, {
      token: TOKEN,
      expires_at: new Date(Date.now() + 3600_000).toISOString(),
      permissions: { contents: 'write', pull_requests: 'write', metadata: 'read' },
      repositories: [{ id: 777 }],
    });
  nock(API, { reqheaders: { authorization: `token ${TOKEN}` } })
    .delete('/installation/token')
    .reply(204);
}

/** The default-branch archive, streamed from codeload, and the repository policy (none unless given). */
export async function expectArchiveAndPolicy(files: Record<string, string>, policy?: string): Promise<void> {
  const gz = await repoTarGz(files);
  nock(API, { reqheaders: { authorization: `token ${TOKEN}` } })
    .get(`${REPO}/branches/main`)
    .reply(200, { name: 'main', commit: { sha: BASE } })
    .get(`${REPO}/tarball/${BASE}`)
    .reply(302, '', { location: `https://codeload.github.com/acme/app/legacy.tar.gz/${BASE}` })
    .get(`${REPO}/contents/.userz.yml`)
    .query({ ref: BASE })
    .reply(
      policy === undefined ? 404 : 200,
      policy === undefined ? { message: 'Not Found' } : { type: 'file', encoding: 'base64', content: Buffer.from(policy).toString('base64') },
    );
  nock('https://codeload.github.com', { badheaders: ['authorization'] })
    .get(`/acme/app/legacy.tar.gz/${BASE}`)
    .reply(200, gz);
}

/** Blobs → tree on base_tree → commit → ref userz/<run> → draft PR, with exact bodies. */
export function expectDraftPr(runId: () => string, file: { path: string; content: string }): { prBodies: string[]; commitMessages: string[] } {
  const prBodies: string[] = [];
  const commitMessages: string[] = [];
  const api = nock(API, { reqheaders: { authorization: `token ${TOKEN}` } });
  api
    .get(`${REPO}/pulls`)
    .query((q) => q.head === `acme:userz/${runId()}` && q.state === 'all')
    .reply(200, []);
  api.get(`${REPO}/git/commits/${BASE}`).reply(200, { sha: BASE, tree: { sha: 'basetree' }, parents: [] });
  api.post(`${REPO}/git/blobs`, { content: Buffer.from(file.content).toString('base64'), encoding: 'base64' }).reply(201, { sha: 'blob1' });
  api
    .post(`${REPO}/git/trees`, { base_tree: 'basetree', tree: [{ path: file.path, mode: '100644', type: 'blob', sha: 'blob1' }] })
    .reply(201, { sha: 'tree1' });
  api.get((p) => p === `${REPO}/git/ref/heads/userz/${runId()}`).reply(404, { message: 'Not Found' });
  api
    .post(`${REPO}/git/commits`, (b: { tree: string; parents: string[]; message: string }) => {
      commitMessages.push(b.message);
      return b.tree === 'tree1' && b.parents[0] === BASE;
    })
    .reply(201, { sha: 'commit1' });
  api.post(`${REPO}/git/refs`, (b: { ref: string; sha: string }) => b.ref === `refs/heads/userz/${runId()}` && b.sha === 'commit1').reply(201, {});
  api
    .post(`${REPO}/pulls`, (b: { draft: boolean; head: string; base: string; body: string }) => {
      prBodies.push(b.body);
      return b.draft === true && b.head === `userz/${runId()}` && b.base === 'main';
    })
    .reply(201, { number: 7, html_url: 'https://github.com/acme/app/pull/7' });
  return { prBodies, commitMessages };
}

export const benignClassifier = () =>
  new ScriptedModelClient([{ content: JSON.stringify({ label: 'benign', confidence: 0.97, reason: 'A checkout bug report.' }) }]);

/** An agent that reads, then edits one file, then summarises. */
export function editingAgent(
  edits: Array<{ path: string; search: string; replace: string }>,
  summary = 'Removed the stray +1 from the total.',
): ScriptedModelClient {
  return new ScriptedModelClient([
    ...edits.map((e, i) => ({ toolCalls: [{ id: `call_${i}`, name: 'edit_file', arguments: { path: e.path, search: e.search, replace: e.replace } }] })),
    { content: summary },
  ]);
}

export async function postWidgetReport(url: string, publicKey: string, body: unknown): Promise<{ id: string; statusToken: string }> {
  const res = await fetch(`${url}/api/v1/reports`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-userz-key': publicKey, origin: ORIGIN },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { id: string; statusToken: string };
}

export async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs = 120_000, what = 'condition', intervalMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The run serving a report (through its batch), once triage has made one. */
export async function runOfReport(db: Queryable, reportId: string): Promise<Run | null> {
  const [r] = await db.query<{ batch_id: string | null }>('SELECT batch_id FROM reports WHERE id = $1', [reportId]);
  return r?.batch_id ? getRunForBatch(db, r.batch_id) : null;
}

const SETTLED = ['pr_opened', 'pr_failed', 'errored', 'rejected', 'needs_review'];

/** Waits until the report's run is in a settled state and no job is left to do. */
export function waitForSettledRun(db: Queryable, reportId: string, timeoutMs = 150_000): Promise<Run> {
  return waitFor(
    async () => {
      const run = await runOfReport(db, reportId);
      if (!run || !SETTLED.includes(run.state)) return null;
      const [pending] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM jobs WHERE done_at IS NULL');
      return Number(pending!.n) === 0 ? run : null;
    },
    timeoutMs,
    'the run to settle',
  );
}

/**
 * What a GitHub follow-up asks after it has read the branch head HEAD (nock, strict): that
 * commit's archive (the first run's fix in it), the base commit's policy (none), then one
 * commit on HEAD that edits src/total.js to `content`, and the branch moved to it.
 * `onCommit` and `onRefMove` see the bodies sent and say whether they match.
 */
export async function expectFollowUpPush(
  scope: nock.Scope,
  o: {
    head: string;
    branch: string;
    content: string;
    pushed: string;
    onCommit(body: { tree: string; parents: string[]; message: string }): boolean;
    onRefMove(body: { sha: string; force: boolean }): boolean;
  },
): Promise<void> {
  scope
    .get(`${REPO}/tarball/${o.head}`)
    .reply(302, '', { location: `https://codeload.github.com/acme/app/legacy.tar.gz/${o.head}` })
    // The guardrail reads the policy of the draft's base commit, not of the branch.
    .get(`${REPO}/contents/.userz.yml`)
    .query({ ref: BASE })
    .reply(404, { message: 'Not Found' })
    .get(`${REPO}/git/commits/${o.head}`)
    .reply(200, { sha: o.head, tree: { sha: 'headtree' }, parents: [{ sha: BASE }] })
    .post(`${REPO}/git/blobs`, { content: Buffer.from(o.content).toString('base64'), encoding: 'base64' })
    .reply(201, { sha: 'blob2' })
    .post(`${REPO}/git/trees`, { base_tree: 'headtree', tree: [{ path: 'src/total.js', mode: '100644', type: 'blob', sha: 'blob2' }] })
    .reply(201, { sha: 'tree2' })
    .post(`${REPO}/git/commits`, (b: { tree: string; parents: string[]; message: string }) => o.onCommit(b) && b.tree === 'tree2')
    .reply(201, { sha: o.pushed })
    .patch(`${REPO}/git/refs/heads/${o.branch}`, (b: { sha: string; force: boolean }) => o.onRefMove(b))
    .reply(200, { ref: `refs/heads/${o.branch}`, object: { sha: o.pushed } });
  const gz = await repoTarGz({ 'src/total.js': APP_JS_FIXED });
  nock('https://codeload.github.com', { badheaders: ['authorization'] })
    .get(`/acme/app/legacy.tar.gz/${o.head}`)
    .reply(200, gz);
}
