import { createPublicKey } from 'node:crypto';
import { jwtVerify } from 'jose';
import nock from 'nock';
import { mintRepoToken, revokeRepoToken, type RepoToken } from '../../../src/forge/github/token.js';
import type { ForgeAuditEvent } from '../../../src/forge/interface.js';
import { makeAppKeys } from './app-keys.js';

const keys = makeAppKeys();
const noWait = { attempts: 3, baseDelayMs: 0, maxDelayMs: 0 };
const API = 'https://api.github.com';

async function expectAppJwt(authorization: string | string[] | undefined): Promise<void> {
  const header = String(authorization);
  expect(header).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
  const { payload, protectedHeader } = await jwtVerify(header.slice('Bearer '.length), createPublicKey(keys.publicKey), { issuer: '4242' });
  expect(protectedHeader.alg).toBe('RS256');
  const now = Math.floor(Date.now() / 1000);
  expect(payload.iat).toBeLessThanOrEqual(now - 59);
  expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(600);
  expect(payload.exp).toBeGreaterThan(now);
}

const tokenAnswer = {
  token: 'ghs_secretvalue123',
  expires_at: '2030-01-01T01:00:00Z',
  permissions: { contents: 'write', pull_requests: 'write', metadata: 'read' },
  repository_selection: 'selected',
  repositories: [{ id: 777 }],
};

afterEach(() => nock.cleanAll());

describe('mintRepoToken', () => {
  it('asks for one repository and exactly three permissions with a Bearer App JWT that verifies with the public key', async () => {
    let authorization: string | string[] | undefined;
    nock(API)
      .post('/app/installations/99/access_tokens', {
        repository_ids: [777],
        permissions: { contents: 'write', pull_requests: 'write', metadata: 'read' },
      })
      .reply(function () {
        authorization = this.req.headers.authorization;
        return [201, tokenAnswer];
      });
    const audit: ForgeAuditEvent[] = [];
    const token = await mintRepoToken({
      appId: 4242,
      privateKey: keys.privateKey,
      baseUrl: null,
      installationId: 99,
      repositoryId: 777,
      retry: noWait,
      onAudit: (e) => void audit.push(e),
    });
    await expectAppJwt(authorization);
    expect(token.token).toBe('ghs_secretvalue123');
    expect(audit).toEqual([{ kind: 'forge.token_minted', forge: 'github', installationId: 99, repositoryId: 777, expiresAt: '2030-01-01T01:00:00Z' }]);
    expect(JSON.stringify(audit)).not.toContain('ghs_');
    expect(JSON.stringify(token)).not.toContain('ghs_');
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('revokes the fresh token when the audit log cannot record it', async () => {
    nock(API).post('/app/installations/99/access_tokens').reply(201, tokenAnswer);
    nock(API, { reqheaders: { authorization: 'token ghs_secretvalue123' } })
      .delete('/installation/token')
      .reply(204);
    const failingAudit = (): void => {
      throw new Error('audit store down');
    };
    await expect(
      mintRepoToken({ appId: 4242, privateKey: keys.privateKey, baseUrl: null, installationId: 99, repositoryId: 777, retry: noWait, onAudit: failingAudit }),
    ).rejects.toThrow('audit store down');
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('revokes and refuses a token that came back broader than asked', async () => {
    nock(API)
      .post('/app/installations/99/access_tokens')
      .reply(201, { ...tokenAnswer, permissions: { ...tokenAnswer.permissions, administration: 'write' } });
    nock(API, { reqheaders: { authorization: 'token ghs_secretvalue123' } })
      .delete('/installation/token')
      .reply(204);
    await expect(
      mintRepoToken({ appId: 4242, privateKey: keys.privateKey, baseUrl: null, installationId: 99, repositoryId: 777, retry: noWait }),
    ).rejects.toMatchObject({ code: 'forge_token_too_broad' });
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('revokes and refuses a token that covers other repositories', async () => {
    nock(API)
      .post('/app/installations/99/access_tokens')
      .reply(201, { ...tokenAnswer, repositories: [{ id: 777 }, { id: 778 }] });
    nock(API).delete('/installation/token').reply(204);
    await expect(
      mintRepoToken({ appId: 4242, privateKey: keys.privateKey, baseUrl: null, installationId: 99, repositoryId: 777, retry: noWait }),
    ).rejects.toMatchObject({ code: 'forge_token_too_broad' });
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('maps a suspended installation (403) to forge_forbidden, not retryable', async () => {
    nock(API).post('/app/installations/99/access_tokens').reply(403, { message: 'This installation has been suspended' });
    const err = await mintRepoToken({ appId: 4242, privateKey: keys.privateKey, baseUrl: null, installationId: 99, repositoryId: 777, retry: noWait }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'forge_forbidden', retryable: false });
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('talks to a GitHub Enterprise Server API base', async () => {
    nock('https://ghe.example.com')
      .post('/api/v3/app/installations/5/access_tokens')
      .reply(201, { ...tokenAnswer, repositories: [{ id: 12 }] });
    const token = await mintRepoToken({
      appId: '4242',
      privateKey: keys.privateKey,
      baseUrl: 'https://ghe.example.com/api/v3',
      installationId: 5,
      repositoryId: 12,
      retry: noWait,
    });
    expect(token.repositoryId).toBe(12);
    expect(nock.pendingMocks()).toEqual([]);
  });
});

describe('revokeRepoToken', () => {
  const token: RepoToken = { token: 'ghs_secretvalue123', expiresAt: 'x', installationId: 99, repositoryId: 777 };

  it('deletes the installation token with the token itself and records it', async () => {
    nock(API, { reqheaders: { authorization: 'token ghs_secretvalue123' } })
      .delete('/installation/token')
      .reply(204);
    const audit: ForgeAuditEvent[] = [];
    await revokeRepoToken({ baseUrl: null, token, retry: noWait, onAudit: (e) => void audit.push(e) });
    expect(audit).toEqual([{ kind: 'forge.token_revoked', forge: 'github', installationId: 99, repositoryId: 777 }]);
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('counts an already dead token (401) as revoked', async () => {
    nock(API).delete('/installation/token').reply(401, { message: 'Bad credentials' });
    await expect(revokeRepoToken({ baseUrl: null, token, retry: noWait })).resolves.toBeUndefined();
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('never puts the token in the error it throws', async () => {
    nock(API).delete('/installation/token').times(3).reply(503, 'ghs_secretvalue123 echoed');
    const err = (await revokeRepoToken({ baseUrl: null, token, retry: noWait }).catch((e: unknown) => e)) as Error & { code: string };
    expect(err.code).toBe('forge_unavailable');
    expect(JSON.stringify({ m: err.message, d: (err as { details?: unknown }).details, s: err.stack })).not.toContain('ghs_');
    expect(nock.pendingMocks()).toEqual([]);
  });
});
