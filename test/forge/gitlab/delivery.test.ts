import nock from 'nock';
import { createForge, type RepoRecord } from '../../../src/forge/index.js';
import { FILE_MODE } from '../../../src/guardrail/change-set.js';
import { BASE, b64, changeSet, deliveryInput } from '../change-sets.js';
import { makeTarGz, readTar } from '../tarball.js';

const HOST = 'https://gitlab.example.com';
const P = '/api/v4/projects/42';
const TOKEN = 'glpat-secret-0001';
const noWait = { attempts: 3, baseDelayMs: 0, maxDelayMs: 0 };
const BRANCH = encodeURIComponent('userz/run_1');

const repo: RepoRecord = {
  id: 'repo_2',
  forge: 'gitlab',
  externalId: '42',
  fullName: 'acme/app',
  baseUrl: HOST,
  installationId: null,
  defaultBranch: 'main',
};

const forgeFor = (r: RepoRecord = repo) => createForge(r, { gitlabToken: async () => TOKEN, retry: noWait });
const gitlab = (host = HOST) => nock(host, { reqheaders: { 'private-token': TOKEN } });
const noMergeRequest = (host = HOST) =>
  gitlab(host)
    .get(`${P}/merge_requests`)
    .query({ source_branch: 'userz/run_1', state: 'all', per_page: '5' })
    .reply(200, [], { 'content-type': 'application/json' });

const json = { 'content-type': 'application/json' };

const EXPECTED_ACTIONS = [
  { action: 'create', file_path: 'src/new.ts', content: b64('export const added = true;\n'), encoding: 'base64', execute_filemode: false },
  { action: 'update', file_path: 'src/app.ts', content: b64('export const fixed = true;\n'), encoding: 'base64', execute_filemode: false },
  { action: 'delete', file_path: 'old.txt' },
  { action: 'move', file_path: 'docs/b.md', previous_path: 'docs/a.md', content: b64('# moved\n'), encoding: 'base64', execute_filemode: false },
  { action: 'create', file_path: 'bin/run.sh', content: b64('#!/bin/sh\necho hi\n'), encoding: 'base64', execute_filemode: true },
];

function expectFreshDelivery(host = HOST): void {
  noMergeRequest(host);
  gitlab(host).get(`${P}/repository/branches/${BRANCH}`).reply(404, { message: '404 Branch Not Found' }, json);
  gitlab(host)
    .post(`${P}/repository/commits`, {
      branch: 'userz/run_1',
      commit_message: 'Fix the login button for ＠everyone\n\nThe login button did nothing on Safari. [x](https://evil.example/p.png)\n\nUserz-Run: run_1',
      actions: EXPECTED_ACTIONS,
      start_sha: BASE,
    })
    .reply(201, { id: 'c'.repeat(40) }, json);
  gitlab(host)
    .post(`${P}/merge_requests`, (body: Record<string, unknown>) => {
      return (
        body.source_branch === 'userz/run_1' &&
        body.target_branch === 'main' &&
        body.title === 'Draft: Fix the login button for ＠everyone' &&
        body.remove_source_branch === true &&
        typeof body.description === 'string' &&
        !body.description.includes('![') &&
        body.description.includes('Userz run `run_1`')
      );
    })
    .reply(201, { iid: 7, web_url: 'https://gitlab.example.com/acme/app/-/merge_requests/7' }, json);
}

afterEach(() => nock.cleanAll());

describe('GitLab forge session', () => {
  it('streams the archive of the default branch head', async () => {
    const gz = await makeTarGz([
      { name: 'app-aaaa-aaaa/', type: 'directory' },
      { name: 'app-aaaa-aaaa/README.md', content: 'hi\n' },
    ]);
    gitlab()
      .get(`${P}/repository/branches/main`)
      .reply(200, { name: 'main', commit: { id: BASE } }, json);
    gitlab().get(`${P}/repository/archive.tar.gz`).query({ sha: BASE }).reply(200, gz, { 'content-type': 'application/octet-stream' });
    const session = await forgeFor().openSession();
    const archive = await session.fetchArchive();
    expect(archive.baseCommit).toBe(BASE);
    expect(Object.fromEntries(await readTar(archive.tar))).toEqual({ 'app-aaaa-aaaa': '<directory>', 'app-aaaa-aaaa/README.md': 'hi\n' });
    await session.close();
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('streams the archive of exactly the commit asked for, without reading any branch', async () => {
    const head = 'c'.repeat(40);
    const gz = await makeTarGz([{ name: 'app-cccc-cccc/README.md', content: 'head\n' }]);
    // No branches mock: a read of the branch (which may have moved) would fail the test.
    gitlab().get(`${P}/repository/archive.tar.gz`).query({ sha: head }).reply(200, gz, { 'content-type': 'application/octet-stream' });
    const session = await forgeFor().openSession();
    const archive = await session.fetchArchive({ commit: head });
    expect(archive.baseCommit).toBe(head);
    expect(Object.fromEntries(await readTar(archive.tar))).toEqual({ 'app-cccc-cccc/README.md': 'head\n' });
    await session.close();
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('reads the repository policy file, and null when it does not exist', async () => {
    gitlab()
      .get(`${P}/repository/files/.userz.yml`)
      .query({ ref: BASE })
      .reply(200, { encoding: 'base64', content: b64('forbid: []\n') }, json);
    gitlab().get(`${P}/repository/files/.userz.yml`).query({ ref: 'other' }).reply(404, { message: '404 File Not Found' }, json);
    const session = await forgeFor().openSession();
    await expect(session.readFile('.userz.yml', BASE)).resolves.toBe('forbid: []\n');
    await expect(session.readFile('.userz.yml', 'other')).resolves.toBeNull();
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('delivers one commit with actions[] started from the base commit, then a Draft: merge request', async () => {
    expectFreshDelivery();
    const session = await forgeFor().openSession();
    await expect(session.deliverDraft(deliveryInput())).resolves.toEqual({
      url: 'https://gitlab.example.com/acme/app/-/merge_requests/7',
      number: 7,
      branch: 'userz/run_1',
      created: true,
    });
    await session.close();
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('uses gitlab.com when the repo has no base URL, and accepts an /api/v4 base URL', async () => {
    expectFreshDelivery('https://gitlab.com');
    const session = await forgeFor({ ...repo, baseUrl: null }).openSession();
    await expect(session.deliverDraft(deliveryInput())).resolves.toMatchObject({ number: 7 });
    expectFreshDelivery();
    const again = await forgeFor({ ...repo, baseUrl: `${HOST}/api/v4/` }).openSession();
    await expect(again.deliverDraft(deliveryInput())).resolves.toMatchObject({ number: 7 });
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('a retried delivery finds the earlier MR and creates nothing', async () => {
    gitlab()
      .get(`${P}/merge_requests`)
      .query(true)
      .reply(200, [{ iid: 7, web_url: 'https://gitlab.example.com/acme/app/-/merge_requests/7' }], json);
    const session = await forgeFor().openSession();
    await expect(session.deliverDraft(deliveryInput())).resolves.toMatchObject({ number: 7, created: false });
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('reuses the run branch when its tip is our commit on the base, and only opens the MR', async () => {
    noMergeRequest();
    gitlab()
      .get(`${P}/repository/branches/${BRANCH}`)
      .reply(200, { commit: { id: 'c'.repeat(40) } }, json);
    gitlab()
      .get(`${P}/repository/commits/${'c'.repeat(40)}`)
      .reply(200, { id: 'c'.repeat(40), parent_ids: [BASE], message: 'Fix\n\nUserz-Run: run_1' }, json);
    gitlab().post(`${P}/merge_requests`).reply(201, { iid: 8, web_url: 'https://gitlab.example.com/acme/app/-/merge_requests/8' }, json);
    const session = await forgeFor().openSession();
    await expect(session.deliverDraft(deliveryInput())).resolves.toMatchObject({ number: 8, created: true });
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('refuses a run branch someone else wrote to (forge_conflict)', async () => {
    noMergeRequest();
    gitlab()
      .get(`${P}/repository/branches/${BRANCH}`)
      .reply(200, { commit: { id: 'd'.repeat(40) } }, json);
    gitlab()
      .get(`${P}/repository/commits/${'d'.repeat(40)}`)
      .reply(200, { id: 'd'.repeat(40), parent_ids: [BASE], message: 'my own work' }, json);
    const session = await forgeFor().openSession();
    await expect(session.deliverDraft(deliveryInput())).rejects.toMatchObject({ code: 'forge_conflict', retryable: false });
    expect(nock.pendingMocks()).toEqual([]);
  });

  it.each([
    ['quotes our trailer in its body', 'Revert\n\nThis undoes "Userz-Run: run_1" by hand.\n\nSigned-off-by: someone'],
    ["is another run's (run_10 is not run_1)", 'Fix\n\nUserz-Run: run_10'],
  ])('refuses a run branch whose tip only %s (forge_conflict)', async (_why, message) => {
    noMergeRequest();
    gitlab()
      .get(`${P}/repository/branches/${BRANCH}`)
      .reply(200, { commit: { id: 'e'.repeat(40) } }, json);
    gitlab()
      .get(`${P}/repository/commits/${'e'.repeat(40)}`)
      .reply(200, { id: 'e'.repeat(40), parent_ids: [BASE], message }, json);
    const session = await forgeFor().openSession();
    await expect(session.deliverDraft(deliveryInput())).rejects.toMatchObject({ code: 'forge_conflict', retryable: false });
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('treats 409 on MR creation as the earlier attempt landing', async () => {
    noMergeRequest();
    gitlab()
      .get(`${P}/repository/branches/${BRANCH}`)
      .reply(200, { commit: { id: 'c'.repeat(40) } }, json);
    gitlab()
      .get(`${P}/repository/commits/${'c'.repeat(40)}`)
      .reply(200, { parent_ids: [BASE], message: 'x\n\nUserz-Run: run_1' }, json);
    gitlab()
      .post(`${P}/merge_requests`)
      .reply(409, { message: ['Another open merge request already exists for this source branch: !9'] }, json);
    gitlab()
      .get(`${P}/merge_requests`)
      .query(true)
      .reply(200, [{ iid: 9, web_url: 'https://gitlab.example.com/acme/app/-/merge_requests/9' }], json);
    const session = await forgeFor().openSession();
    await expect(session.deliverDraft(deliveryInput())).resolves.toMatchObject({ number: 9, created: false });
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('maps 403 to forge_forbidden and 404 to forge_not_found, neither retryable, without the token in the error', async () => {
    gitlab()
      .get(`${P}/merge_requests`)
      .query(true)
      .reply(403, { message: `403 Forbidden ${TOKEN}` }, json);
    const session = await forgeFor().openSession();
    const err = (await session.deliverDraft(deliveryInput()).catch((e: unknown) => e)) as Error & { details?: unknown };
    expect(err).toMatchObject({ code: 'forge_forbidden', retryable: false });
    expect(JSON.stringify({ m: err.message, d: err.details, s: err.stack })).not.toContain(TOKEN);

    gitlab().get(`${P}/repository/branches/main`).reply(404, { message: '404 Project Not Found' }, json);
    await expect(session.fetchArchive()).rejects.toMatchObject({ code: 'forge_not_found', retryable: false });
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('maps 422 / 400 on the commit to a non-retryable error', async () => {
    noMergeRequest();
    gitlab().get(`${P}/repository/branches/${BRANCH}`).reply(404, { message: '404 Branch Not Found' }, json);
    gitlab().post(`${P}/repository/commits`).reply(400, { message: 'A file with this name already exists' }, json);
    gitlab().get(`${P}/repository/branches/${BRANCH}`).reply(404, { message: '404 Branch Not Found' }, json);
    const session = await forgeFor().openSession();
    await expect(session.deliverDraft(deliveryInput())).rejects.toMatchObject({ code: 'forge_rejected', retryable: false });
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('retries 502 and 429 with our policy (not gitbeaker’s ten quick retries) and goes on', async () => {
    gitlab().get(`${P}/repository/files/.userz.yml`).query(true).reply(502, 'Bad Gateway');
    gitlab()
      .get(`${P}/repository/files/.userz.yml`)
      .query(true)
      .reply(429, { message: 'Retry later' }, { ...json, 'retry-after': '0' });
    gitlab()
      .get(`${P}/repository/files/.userz.yml`)
      .query(true)
      .reply(200, { encoding: 'base64', content: b64('ok') }, json);
    const session = await forgeFor().openSession();
    await expect(session.readFile('.userz.yml', BASE)).resolves.toBe('ok');
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('gives up after the last attempt with forge_unavailable, retryable', async () => {
    gitlab().get(`${P}/repository/files/.userz.yml`).query(true).times(3).reply(503, 'down');
    const session = await forgeFor().openSession();
    await expect(session.readFile('.userz.yml', BASE)).rejects.toMatchObject({ code: 'forge_unavailable', retryable: true });
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('refuses a symlink, which the commits API cannot write', async () => {
    noMergeRequest();
    const session = await forgeFor().openSession();
    const link = changeSet([{ path: 'l', status: 'added', mode: FILE_MODE.symlink, content: Buffer.from('target'), size: 6 }]);
    await expect(session.deliverDraft(deliveryInput({ changeSet: link }))).rejects.toMatchObject({ code: 'forge_unsupported_change' });
    expect(nock.pendingMocks()).toEqual([]);
  });
});
