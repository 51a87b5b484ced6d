import nock from 'nock';
import project from '../../fixtures/forge/gitlab-project.json' with { type: 'json' };
import tokenSelf from '../../fixtures/forge/gitlab-token-self.json' with { type: 'json' };
import { verifyGitLabProject } from '../../../src/forge/gitlab/connect.js';

const HOST = 'https://gitlab.example.com';
const TOKEN = 'glpat-connect-0001';
const json = { 'content-type': 'application/json' };
const noWait = { attempts: 2, baseDelayMs: 0, maxDelayMs: 0 };
const gitlab = () => nock(HOST, { reqheaders: { 'private-token': TOKEN } });
const verify = (p: string | number = 'acme/app') => verifyGitLabProject({ baseUrl: HOST, project: p, token: TOKEN, retry: noWait });

afterEach(() => nock.cleanAll());

describe('verifyGitLabProject', () => {
  it('returns the project identity when the token has api scope and Developer access', async () => {
    gitlab().get('/api/v4/personal_access_tokens/self').reply(200, tokenSelf, json);
    gitlab().get('/api/v4/projects/acme%2Fapp').reply(200, project, json);
    await expect(verify()).resolves.toEqual({
      externalId: '42',
      fullName: 'acme/app',
      defaultBranch: 'main',
      webUrl: 'https://gitlab.example.com/acme/app',
    });
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('rejects a token without the api scope', async () => {
    gitlab()
      .get('/api/v4/personal_access_tokens/self')
      .reply(200, { ...tokenSelf, scopes: ['read_api', 'read_repository'] }, json);
    await expect(verify()).rejects.toMatchObject({ code: 'gitlab_token_scope', status: 400 });
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('rejects a token GitLab does not accept, without echoing it', async () => {
    gitlab().get('/api/v4/personal_access_tokens/self').reply(401, { message: '401 Unauthorized' }, json);
    const err = (await verify().catch((e: unknown) => e)) as Error;
    expect(err).toMatchObject({ code: 'gitlab_token_invalid' });
    expect(`${err.message} ${err.stack}`).not.toContain(TOKEN);
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('rejects Reporter access (20) when no inherited membership lifts it', async () => {
    gitlab().get('/api/v4/personal_access_tokens/self').reply(200, tokenSelf, json);
    gitlab()
      .get('/api/v4/projects/42')
      .reply(200, { ...project, permissions: { project_access: { access_level: 20 }, group_access: null } }, json);
    gitlab().get('/api/v4/projects/42/members/all/1501').reply(200, { id: 1501, access_level: 20 }, json);
    await expect(verify(42)).rejects.toMatchObject({ code: 'gitlab_access_too_low' });
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('accepts Developer access inherited from a parent group (members/all)', async () => {
    gitlab().get('/api/v4/personal_access_tokens/self').reply(200, tokenSelf, json);
    gitlab()
      .get('/api/v4/projects/42')
      .reply(200, { ...project, permissions: { project_access: null, group_access: null } }, json);
    gitlab().get('/api/v4/projects/42/members/all/1501').reply(200, { id: 1501, access_level: 40 }, json);
    await expect(verify(42)).resolves.toMatchObject({ externalId: '42' });
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('reports a project the token cannot see', async () => {
    gitlab().get('/api/v4/personal_access_tokens/self').reply(200, tokenSelf, json);
    gitlab().get('/api/v4/projects/acme%2Fapp').reply(404, { message: '404 Project Not Found' }, json);
    await expect(verify()).rejects.toMatchObject({ code: 'gitlab_project_not_found' });
    expect(nock.pendingMocks()).toEqual([]);
  });
});
