import nock from 'nock';
import { createForge, type ForgeAuditEvent, type RepoRecord } from '../../../src/forge/index.js';
import { FILE_MODE } from '../../../src/guardrail/change-set.js';
import { BASE, b64, changeSet, deliveryInput } from '../change-sets.js';
import { makeTarGz, readTar } from '../tarball.js';
import { makeAppKeys } from './app-keys.js';

const keys = makeAppKeys();
const API = 'https://api.github.com';
const REPO = '/repos/acme/app';
const TOKEN = 'ghs_runtoken0001';
const noWait = { attempts: 3, baseDelayMs: 0, maxDelayMs: 0 };

const repo: RepoRecord = {
  id: 'repo_1',
  forge: 'github',
  externalId: '777',
  fullName: 'acme/app',
  baseUrl: null,
  installationId: 99,
  defaultBranch: 'main',
};

function forgeFor(r: RepoRecord = repo, audit: ForgeAuditEvent[] = []) {
  return createForge(r, { github: { appId: 4242, privateKey: keys.privateKey }, retry: noWait, onAudit: (e) => void audit.push(e) });
}

/** The run token is minted for repo 777 and later revoked with itself. */
function expectMintAndRevoke(base = API, prefix = ''): void {
  nock(base)
    .post(`${prefix}/app/installations/99/access_tokens`, {
      repository_ids: [777],
      permissions: { contents: 'write', pull_requests: 'write', metadata: 'read' },
    })
    .reply(201, {
      token: TOKEN,
      expires_at: '2030-01-01T00:00:00Z',
      permissions: { contents: 'write', pull_requests: 'write', metadata: 'read' },
      repositories: [{ id: 777 }],
    });
  nock(base, { reqheaders: { authorization: `token ${TOKEN}` } })
    .delete(`${prefix}/installation/token`)
    .reply(204);
}

/** Everything a fresh delivery writes, in order, with the exact bodies. */
function expectFreshDelivery(base = API, prefix = ''): nock.Scope {
  const api = nock(base, { reqheaders: { authorization: `token ${TOKEN}` } });
  api.get(`${prefix}${REPO}/pulls`).query({ head: 'acme:userz/run_1', state: 'all' }).reply(200, []);
  api.get(`${prefix}${REPO}/git/commits/${BASE}`).reply(200, { sha: BASE, tree: { sha: 'basetree' }, parents: [] });
  const blobs: Record<string, string> = {
    'export const added = true;\n': 'blob-new',
    'export const fixed = true;\n': 'blob-app',
    '# moved\n': 'blob-md',
    '#!/bin/sh\necho hi\n': 'blob-sh',
  };
  for (const [text, sha] of Object.entries(blobs)) {
    api.post(`${prefix}${REPO}/git/blobs`, { content: b64(text), encoding: 'base64' }).reply(201, { sha });
  }
  api
    .post(`${prefix}${REPO}/git/trees`, {
      base_tree: 'basetree',
      tree: [
        { path: 'src/new.ts', mode: FILE_MODE.file, type: 'blob', sha: 'blob-new' },
        { path: 'src/app.ts', mode: FILE_MODE.file, type: 'blob', sha: 'blob-app' },
        { path: 'old.txt', mode: FILE_MODE.file, type: 'blob', sha: null },
        { path: 'docs/a.md', mode: FILE_MODE.file, type: 'blob', sha: null },
        { path: 'docs/b.md', mode: FILE_MODE.file, type: 'blob', sha: 'blob-md' },
        { path: 'bin/run.sh', mode: FILE_MODE.executable, type: 'blob', sha: 'blob-sh' },
      ],
    })
    .reply(201, { sha: 'newtree' });
  api.get(`${prefix}${REPO}/git/ref/heads/userz/run_1`).reply(404, { message: 'Not Found' });
  api
    .post(`${prefix}${REPO}/git/commits`, {
      message: 'Fix the login button for ＠everyone\n\nThe login button did nothing on Safari. [x](https://evil.example/p.png)\n\nUserz-Run: run_1',
      tree: 'newtree',
      parents: [BASE],
    })
    .reply(201, { sha: 'newcommit' });
  api.post(`${prefix}${REPO}/git/refs`, { ref: 'refs/heads/userz/run_1', sha: 'newcommit' }).reply(201, { ref: 'refs/heads/userz/run_1' });
  api
    .post(`${prefix}${REPO}/pulls`, (body: Record<string, unknown>) => {
      return (
        body.draft === true &&
        body.head === 'userz/run_1' &&
        body.base === 'main' &&
        body.title === 'Fix the login button for ＠everyone' &&
        typeof body.body === 'string' &&
        !body.body.includes('![') &&
        body.body.includes('Userz run `run_1`')
      );
    })
    .reply(201, { number: 12, html_url: 'https://github.com/acme/app/pull/12' });
  return api;
}

afterEach(() => nock.cleanAll());

describe('GitHub forge session', () => {
  it('streams the default branch archive from codeload without sending the token there', async () => {
    expectMintAndRevoke();
    const gz = await makeTarGz([
      { name: 'acme-app-aaaa/', type: 'directory' },
      { name: 'acme-app-aaaa/README.md', content: 'hi\n' },
    ]);
    nock(API, { reqheaders: { authorization: `token ${TOKEN}` } })
      .get(`${REPO}/branches/main`)
      .reply(200, { name: 'main', commit: { sha: BASE } })
      .get(`${REPO}/tarball/${BASE}`)
      .reply(302, '', { location: `https://codeload.github.com/acme/app/legacy.tar.gz/${BASE}?token=short-lived` });
    nock('https://codeload.github.com', { badheaders: ['authorization'] })
      .get(`/acme/app/legacy.tar.gz/${BASE}`)
      .query({ token: 'short-lived' })
      .reply(200, gz, { 'content-type': 'application/x-gzip' });

    const session = await forgeFor().openSession();
    const archive = await session.fetchArchive();
    expect(archive.baseCommit).toBe(BASE);
    expect(Object.fromEntries(await readTar(archive.tar))).toEqual({ 'acme-app-aaaa': '<directory>', 'acme-app-aaaa/README.md': 'hi\n' });
    await session.close();
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('streams the archive of exactly the commit asked for, without reading any branch', async () => {
    expectMintAndRevoke();
    const head = 'c'.repeat(40);
    const gz = await makeTarGz([{ name: 'acme-app-cccc/README.md', content: 'head\n' }]);
    // No branches mock: a read of the branch (which may have moved) would fail the test.
    nock(API, { reqheaders: { authorization: `token ${TOKEN}` } })
      .get(`${REPO}/tarball/${head}`)
      .reply(302, '', { location: `https://codeload.github.com/acme/app/legacy.tar.gz/${head}` });
    nock('https://codeload.github.com', { badheaders: ['authorization'] })
      .get(`/acme/app/legacy.tar.gz/${head}`)
      .reply(200, gz, { 'content-type': 'application/x-gzip' });

    const session = await forgeFor().openSession();
    const archive = await session.fetchArchive({ commit: head });
    expect(archive.baseCommit).toBe(head);
    expect(Object.fromEntries(await readTar(archive.tar))).toEqual({ 'acme-app-cccc/README.md': 'head\n' });
    await session.close();
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('reads a branch head with its commit message, and null for a branch that does not exist', async () => {
    expectMintAndRevoke();
    const message = 'Follow-up 1 from review (run_1)\n\nDone.\n\nUserz-Run: run_1\nUserz-Follow-Up: 1';
    nock(API, { reqheaders: { authorization: `token ${TOKEN}` } })
      .get(`${REPO}/branches/${encodeURIComponent('userz/run_1')}`)
      .reply(200, { name: 'userz/run_1', commit: { sha: 'c'.repeat(40), commit: { message } } })
      .get(`${REPO}/branches/${encodeURIComponent('userz/gone')}`)
      .reply(404, { message: 'Branch not found' });
    const session = await forgeFor().openSession();
    await expect(session.branchHead('userz/run_1')).resolves.toEqual({ sha: 'c'.repeat(40), message });
    await expect(session.branchHead('userz/gone')).resolves.toBeNull();
    await session.close();
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('reads the repository policy file at a ref, and null when it does not exist', async () => {
    expectMintAndRevoke();
    nock(API)
      .get(`${REPO}/contents/.userz.yml`)
      .query({ ref: BASE })
      .reply(200, { type: 'file', encoding: 'base64', content: b64('forbid:\n  - infra/**\n') })
      .get(`${REPO}/contents/.userz.yml`)
      .query({ ref: 'other' })
      .reply(404, { message: 'Not Found' })
      .get(`${REPO}/contents/.userz.yml`)
      .query({ ref: 'huge' })
      .reply(200, { type: 'file', encoding: 'none', content: '' });
    const session = await forgeFor().openSession();
    await expect(session.readFile('.userz.yml', BASE)).resolves.toBe('forbid:\n  - infra/**\n');
    await expect(session.readFile('.userz.yml', 'other')).resolves.toBeNull();
    await expect(session.readFile('.userz.yml', 'huge')).rejects.toMatchObject({ code: 'forge_file_too_large' });
    await session.close();
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('delivers blobs → tree on the base tree → commit on the base → branch → draft PR, then revokes the token', async () => {
    expectMintAndRevoke();
    expectFreshDelivery();
    const audit: ForgeAuditEvent[] = [];
    const session = await forgeFor(repo, audit).openSession();
    const delivery = await session.deliverDraft(deliveryInput());
    expect(delivery).toEqual({ url: 'https://github.com/acme/app/pull/12', number: 12, branch: 'userz/run_1', created: true });
    await session.close();
    await session.close(); // idempotent: one DELETE only (nock would fail on a second)
    expect(audit.map((e) => e.kind)).toEqual(['forge.token_minted', 'forge.token_revoked']);
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('works against a GitHub Enterprise Server API base URL', async () => {
    const ghes = 'https://ghe.example.com';
    expectMintAndRevoke(ghes, '/api/v3');
    expectFreshDelivery(ghes, '/api/v3');
    const session = await forgeFor({ ...repo, baseUrl: 'https://ghe.example.com/api/v3' }).openSession();
    await expect(session.deliverDraft(deliveryInput())).resolves.toMatchObject({ number: 12, created: true });
    await session.close();
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('a retried delivery finds the earlier PR and creates nothing', async () => {
    expectMintAndRevoke();
    nock(API)
      .get(`${REPO}/pulls`)
      .query({ head: 'acme:userz/run_1', state: 'all' })
      .reply(200, [{ number: 12, html_url: 'https://github.com/acme/app/pull/12' }]);
    const session = await forgeFor().openSession();
    await expect(session.deliverDraft(deliveryInput())).resolves.toEqual({
      url: 'https://github.com/acme/app/pull/12',
      number: 12,
      branch: 'userz/run_1',
      created: false,
    });
    await session.close();
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('reuses a branch an earlier attempt pushed when it holds the same tree on the same base', async () => {
    expectMintAndRevoke();
    const api = nock(API);
    api.get(`${REPO}/pulls`).query(true).reply(200, []);
    api.get(`${REPO}/git/commits/${BASE}`).reply(200, { tree: { sha: 'basetree' } });
    api.post(`${REPO}/git/blobs`).times(4).reply(201, { sha: 'b' });
    api.post(`${REPO}/git/trees`).reply(201, { sha: 'newtree' });
    api.get(`${REPO}/git/ref/heads/userz/run_1`).reply(200, { object: { sha: 'earlier' } });
    api.get(`${REPO}/git/commits/earlier`).reply(200, { tree: { sha: 'newtree' }, parents: [{ sha: BASE }] });
    api.post(`${REPO}/pulls`).reply(201, { number: 13, html_url: 'https://github.com/acme/app/pull/13' });
    const session = await forgeFor().openSession();
    await expect(session.deliverDraft(deliveryInput())).resolves.toMatchObject({ number: 13, created: true });
    await session.close();
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('refuses to touch a run branch that holds other content (forge_conflict)', async () => {
    expectMintAndRevoke();
    const api = nock(API);
    api.get(`${REPO}/pulls`).query(true).reply(200, []);
    api.get(`${REPO}/git/commits/${BASE}`).reply(200, { tree: { sha: 'basetree' } });
    api.post(`${REPO}/git/blobs`).times(4).reply(201, { sha: 'b' });
    api.post(`${REPO}/git/trees`).reply(201, { sha: 'newtree' });
    api.get(`${REPO}/git/ref/heads/userz/run_1`).reply(200, { object: { sha: 'someone' } });
    api.get(`${REPO}/git/commits/someone`).reply(200, { tree: { sha: 'othertree' }, parents: [{ sha: BASE }] });
    const session = await forgeFor().openSession();
    await expect(session.deliverDraft(deliveryInput())).rejects.toMatchObject({ code: 'forge_conflict', retryable: false });
    await session.close();
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('treats a 422 "already exists" on PR creation as the earlier attempt landing', async () => {
    expectMintAndRevoke();
    const api = nock(API);
    api.get(`${REPO}/pulls`).query(true).reply(200, []);
    api.get(`${REPO}/git/commits/${BASE}`).reply(200, { tree: { sha: 'basetree' } });
    api.post(`${REPO}/git/blobs`).times(4).reply(201, { sha: 'b' });
    api.post(`${REPO}/git/trees`).reply(201, { sha: 'newtree' });
    api.get(`${REPO}/git/ref/heads/userz/run_1`).reply(200, { object: { sha: 'earlier' } });
    api.get(`${REPO}/git/commits/earlier`).reply(200, { tree: { sha: 'newtree' }, parents: [{ sha: BASE }] });
    api.post(`${REPO}/pulls`).reply(422, { message: 'Validation Failed', errors: [{ message: 'A pull request already exists for acme:userz/run_1.' }] });
    api
      .get(`${REPO}/pulls`)
      .query(true)
      .reply(200, [{ number: 14, html_url: 'https://github.com/acme/app/pull/14' }]);
    const session = await forgeFor().openSession();
    await expect(session.deliverDraft(deliveryInput())).resolves.toMatchObject({ number: 14, created: false });
    await session.close();
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('revokes the token even when delivery throws (403 → forge_forbidden, not retryable)', async () => {
    expectMintAndRevoke();
    const api = nock(API);
    api.get(`${REPO}/pulls`).query(true).reply(200, []);
    api.get(`${REPO}/git/commits/${BASE}`).reply(403, { message: 'Resource not accessible by integration' });
    const audit: ForgeAuditEvent[] = [];
    const session = await forgeFor(repo, audit).openSession();
    try {
      await expect(session.deliverDraft(deliveryInput())).rejects.toMatchObject({ code: 'forge_forbidden', retryable: false });
    } finally {
      await session.close();
    }
    expect(audit.map((e) => e.kind)).toEqual(['forge.token_minted', 'forge.token_revoked']);
    await expect(session.deliverDraft(deliveryInput())).rejects.toMatchObject({ code: 'forge_session_closed' });
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('maps a missing repository (404) to forge_not_found, not retryable', async () => {
    expectMintAndRevoke();
    nock(API).get(`${REPO}/pulls`).query(true).reply(404, { message: 'Not Found' });
    const session = await forgeFor().openSession();
    await expect(session.deliverDraft(deliveryInput())).rejects.toMatchObject({ code: 'forge_not_found', retryable: false });
    await session.close();
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('does not read a moved repository (301) as an answer', async () => {
    expectMintAndRevoke();
    nock(API).get(`${REPO}/branches/main`).reply(301, { message: 'Moved Permanently', url: 'https://api.github.com/repositories/777/branches/main' });
    const session = await forgeFor().openSession();
    await expect(session.fetchArchive()).rejects.toMatchObject({ code: 'forge_rejected', retryable: false, details: { status: 301 } });
    await session.close();
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('retries a 5xx and goes on when the next attempt succeeds', async () => {
    expectMintAndRevoke();
    const api = nock(API);
    api.get(`${REPO}/branches/main`).reply(502, 'bad gateway');
    api.get(`${REPO}/branches/main`).reply(503, 'unavailable');
    api.get(`${REPO}/branches/main`).reply(200, { commit: { sha: BASE } });
    api.get(`${REPO}/tarball/${BASE}`).reply(200, await makeTarGz([{ name: 't/a', content: 'a' }]));
    const session = await forgeFor().openSession();
    const archive = await session.fetchArchive();
    expect([...(await readTar(archive.tar)).keys()]).toEqual(['t/a']);
    await session.close();
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('gives up after the last attempt with forge_unavailable, retryable, and still revokes', async () => {
    expectMintAndRevoke();
    nock(API).get(`${REPO}/branches/main`).times(3).reply(500, 'boom');
    const session = await forgeFor().openSession();
    await expect(session.fetchArchive()).rejects.toMatchObject({ code: 'forge_unavailable', retryable: true, details: { status: 500 } });
    await session.close();
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('treats a secondary rate limit (403 with Retry-After) as retryable', async () => {
    expectMintAndRevoke();
    const api = nock(API);
    api.get(`${REPO}/branches/main`).times(3).reply(403, { message: 'You have exceeded a secondary rate limit' }, { 'retry-after': '0' });
    const session = await forgeFor().openSession();
    await expect(session.fetchArchive()).rejects.toMatchObject({ code: 'forge_rate_limited', retryable: true });
    await session.close();
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('records a failed revocation instead of throwing from close', async () => {
    nock(API)
      .post('/app/installations/99/access_tokens')
      .reply(201, { token: TOKEN, expires_at: 'x', permissions: { contents: 'write' }, repositories: [{ id: 777 }] });
    nock(API).delete('/installation/token').times(3).reply(502);
    const audit: ForgeAuditEvent[] = [];
    const session = await forgeFor(repo, audit).openSession();
    await expect(session.close()).resolves.toBeUndefined();
    expect(audit.at(-1)).toEqual({ kind: 'forge.token_revoke_failed', forge: 'github', installationId: 99, repositoryId: 777, code: 'forge_unavailable' });
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('logs ids only: no token reaches the logger or the audit events', async () => {
    expectMintAndRevoke();
    expectFreshDelivery();
    const lines: string[] = [];
    const log = {
      info: (o: object, m: string) => void lines.push(JSON.stringify([o, m])),
      warn: (o: object, m: string) => void lines.push(JSON.stringify([o, m])),
    };
    const audit: ForgeAuditEvent[] = [];
    const forge = createForge(repo, { github: { appId: 4242, privateKey: keys.privateKey }, retry: noWait, log, onAudit: (e) => void audit.push(e) });
    const session = await forge.openSession();
    await session.deliverDraft(deliveryInput());
    await session.close();
    expect(lines).toEqual([JSON.stringify([{ repoId: 'repo_1', runId: 'run_1', number: 12, created: true }, 'Draft PR ready'])]);
    expect(JSON.stringify(audit)).not.toContain(TOKEN);
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('retries a network failure and maps exhaustion to forge_unavailable', async () => {
    expectMintAndRevoke();
    nock(API).get(`${REPO}/branches/main`).times(3).replyWithError({ code: 'ECONNRESET', message: 'socket hang up' });
    const session = await forgeFor().openSession();
    await expect(session.fetchArchive()).rejects.toMatchObject({ code: 'forge_unavailable', retryable: true });
    await session.close();
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('refuses a submodule entry before writing anything', async () => {
    expectMintAndRevoke();
    nock(API).get(`${REPO}/pulls`).query(true).reply(200, []);
    const session = await forgeFor().openSession();
    const sub = changeSet([{ path: 'vendor/lib', status: 'added', mode: FILE_MODE.submodule, content: Buffer.from('x'), size: 1 }]);
    await expect(session.deliverDraft(deliveryInput({ changeSet: sub }))).rejects.toMatchObject({ code: 'forge_unsupported_change' });
    await session.close();
    expect(nock.pendingMocks()).toEqual([]);
  });
});
