/**
 * A follow-up's commit on GitLab (issue 18): one commit through the commits API on the
 * draft's branch, its parent the branch head the change was made on; a branch that moved
 * meanwhile is refused before anything is written.
 */
import nock from 'nock';
import { createForge, type RepoRecord } from '../../../src/forge/index.js';
import { b64, changeSet } from '../change-sets.js';
import { FILE_MODE } from '../../../src/guardrail/change-set.js';

const HOST = 'https://gitlab.example.com';
const P = '/api/v4/projects/42';
const TOKEN = 'glpat-secret-0002';
const HEAD = 'b'.repeat(40);
const BRANCH = 'userz/run_1';
const json = { 'content-type': 'application/json' };

const repo: RepoRecord = { id: 'repo_2', forge: 'gitlab', externalId: '42', fullName: 'acme/app', baseUrl: HOST, installationId: null, defaultBranch: 'main' };
const gitlab = () => nock(HOST, { reqheaders: { 'private-token': TOKEN } });
const onHead = () => ({
  ...changeSet([
    { path: 'src/app.ts', status: 'modified', mode: FILE_MODE.file, oldMode: FILE_MODE.file, content: Buffer.from('export const v = 2;\n'), size: 20 },
  ]),
  baseCommit: HEAD,
});

afterEach(() => {
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
});

describe('GitLab follow-up commit', () => {
  it('commits on the branch when its head is still the change’s base, and returns the commit', async () => {
    gitlab()
      .get(`${P}/repository/branches/${encodeURIComponent(BRANCH)}`)
      .reply(200, { name: BRANCH, commit: { id: HEAD } }, json);
    gitlab()
      .post(`${P}/repository/commits`, (body: Record<string, unknown>) => {
        expect(body).toEqual({
          branch: BRANCH,
          commit_message: 'Follow-up 1\n\nUserz-Run: run_1',
          actions: [{ action: 'update', file_path: 'src/app.ts', content: b64('export const v = 2;\n'), encoding: 'base64', execute_filemode: false }],
        });
        return true;
      })
      .reply(201, { id: 'c'.repeat(40), parent_ids: [HEAD] }, json);
    const session = await createForge(repo, { gitlabToken: async () => TOKEN }).openSession();
    await expect(session.pushCommit({ branch: BRANCH, changeSet: onHead(), message: 'Follow-up 1\n\nUserz-Run: run_1' })).resolves.toBe('c'.repeat(40));
    await session.close();
  });

  it('refuses with forge_conflict, writing nothing, when someone pushed to the branch meanwhile', async () => {
    gitlab()
      .get(`${P}/repository/branches/${encodeURIComponent(BRANCH)}`)
      .reply(200, { name: BRANCH, commit: { id: 'd'.repeat(40) } }, json);
    const session = await createForge(repo, { gitlabToken: async () => TOKEN }).openSession();
    await expect(session.pushCommit({ branch: BRANCH, changeSet: onHead(), message: 'x' })).rejects.toMatchObject({ code: 'forge_conflict' });
    await session.close();
  });

  it('reads the branch head with its message (a retried follow-up looks for its trailers), and null for no such branch', async () => {
    const message = 'Follow-up 1 from review (run_1)\n\nDone.\n\nUserz-Run: run_1\nUserz-Follow-Up: 1';
    gitlab()
      .get(`${P}/repository/branches/${encodeURIComponent(BRANCH)}`)
      .reply(200, { name: BRANCH, commit: { id: 'c'.repeat(40), message } }, json);
    gitlab()
      .get(`${P}/repository/branches/${encodeURIComponent('userz/gone')}`)
      .reply(404, { message: '404 Branch Not Found' }, json);
    const session = await createForge(repo, { gitlabToken: async () => TOKEN }).openSession();
    await expect(session.branchHead(BRANCH)).resolves.toEqual({ sha: 'c'.repeat(40), message });
    await expect(session.branchHead('userz/gone')).resolves.toBeNull();
    await session.close();
  });
});
