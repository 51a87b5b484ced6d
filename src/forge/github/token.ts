/**
 * The run's credential: an installation token narrowed to one repository and exactly three
 * permissions, minted fresh for every run (never an installation-wide or cached token) and
 * revoked when the run ends.
 */
import { UserzError } from '../../errors.js';
import type { ForgeAuditEvent } from '../interface.js';
import { DEFAULT_RETRY, type RetryPolicy } from '../retry.js';
import { signAppJwt } from './app-jwt.js';
import { GitHubHttp } from './http.js';

export const RUN_PERMISSIONS = { contents: 'write', pull_requests: 'write', metadata: 'read' } as const;

export interface RepoToken {
  token: string;
  expiresAt: string;
  installationId: number;
  repositoryId: number;
}

export interface MintRepoTokenInput {
  appId: string | number;
  privateKey: string;
  /** null = github.com; GHES: `https://host/api/v3`. */
  baseUrl: string | null;
  installationId: number;
  repositoryId: number;
  retry?: RetryPolicy;
  onAudit?: (event: ForgeAuditEvent) => void | Promise<void>;
}

interface AccessTokenAnswer {
  token: string;
  expires_at: string;
  permissions?: Record<string, string>;
  repositories?: Array<{ id: number }>;
}

export async function mintRepoToken(input: MintRepoTokenInput): Promise<RepoToken> {
  const jwt = await signAppJwt(input.appId, input.privateKey);
  const app = new GitHubHttp({ baseUrl: input.baseUrl, authorization: `Bearer ${jwt}`, retry: input.retry ?? DEFAULT_RETRY });
  const answer = await app.request<AccessTokenAnswer>('mint repository token', `/app/installations/${input.installationId}/access_tokens`, {
    method: 'POST',
    body: { repository_ids: [input.repositoryId], permissions: RUN_PERMISSIONS },
  });
  const minted: RepoToken = {
    token: answer.token,
    expiresAt: answer.expires_at,
    installationId: input.installationId,
    repositoryId: input.repositoryId,
  };
  // Not enumerable: a RepoToken that reaches a logger or JSON.stringify shows no secret.
  Object.defineProperty(minted, 'token', { enumerable: false });
  if (!tokenIsNarrow(answer, input.repositoryId)) {
    // A broader token than asked for must not be used; take it back at once.
    await revokeRepoToken({ baseUrl: input.baseUrl, token: minted, retry: input.retry, onAudit: input.onAudit });
    throw new UserzError('forge_token_too_broad', 'GitHub issued a token broader than the run asked for');
  }
  try {
    await input.onAudit?.({
      kind: 'forge.token_minted',
      forge: 'github',
      installationId: input.installationId,
      repositoryId: input.repositoryId,
      expiresAt: minted.expiresAt,
    });
  } catch (e) {
    // A token the audit log does not know about must not stay alive: take it back, then fail.
    await revokeRepoToken({ baseUrl: input.baseUrl, token: minted, retry: input.retry }).catch(() => undefined);
    throw e;
  }
  return minted;
}

function tokenIsNarrow(answer: AccessTokenAnswer, repositoryId: number): boolean {
  const granted = Object.entries(answer.permissions ?? {});
  const permsOk = granted.every(([name, level]) => {
    const asked = (RUN_PERMISSIONS as Record<string, string>)[name];
    return asked !== undefined && (level === asked || (asked === 'write' && level === 'read'));
  });
  const repos = answer.repositories;
  const reposOk = repos !== undefined && repos.length === 1 && repos[0]!.id === repositoryId;
  return permsOk && reposOk;
}

/** `DELETE /installation/token` with the token itself. A token that is already dead (401) counts as revoked. */
export async function revokeRepoToken(input: {
  baseUrl: string | null;
  token: RepoToken;
  retry?: RetryPolicy;
  onAudit?: (event: ForgeAuditEvent) => void | Promise<void>;
}): Promise<void> {
  const http = new GitHubHttp({ baseUrl: input.baseUrl, authorization: `token ${input.token.token}`, retry: input.retry ?? DEFAULT_RETRY });
  try {
    await http.request('revoke repository token', '/installation/token', { method: 'DELETE' });
  } catch (e) {
    if (!(e instanceof UserzError && e.code === 'forge_unauthorized')) throw e;
  }
  await input.onAudit?.({
    kind: 'forge.token_revoked',
    forge: 'github',
    installationId: input.token.installationId,
    repositoryId: input.token.repositoryId,
  });
}

/** A client bound to the run's token only. */
export function repoClient(baseUrl: string | null, token: RepoToken, retry: RetryPolicy = DEFAULT_RETRY): GitHubHttp {
  return new GitHubHttp({ baseUrl, authorization: `token ${token.token}`, retry });
}
