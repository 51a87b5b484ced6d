import { UserzError } from '../../errors.js';
import type { DeliveryInput, Forge, ForgeAuditEvent, ForgeLogger, ForgeSession, RepoRecord, ReviewSession } from '../interface.js';
import { DEFAULT_RETRY, type RetryPolicy } from '../retry.js';
import { guardSession } from '../session-guard.js';
import { fetchGitHubArchive, readGitHubBranchHead, readGitHubFile } from './archive.js';
import type { RepoPath } from './commit.js';
import { deliverGitHubDraft, pushGitHubCommit } from './deliver.js';
import { githubAccessOf, upsertGitHubComment } from './review-session.js';
import { mintRepoToken, repoClient, revokeRepoToken } from './token.js';

export interface GitHubForgeDeps {
  appId: string | number;
  privateKey: string;
  retry?: RetryPolicy;
  onAudit?: (event: ForgeAuditEvent) => void | Promise<void>;
  log?: ForgeLogger;
}

function repoPath(repo: RepoRecord): RepoPath {
  const [owner, name, extra] = repo.fullName.split('/');
  if (!owner || !name || extra !== undefined) throw new UserzError('forge_bad_repo', 'GitHub repository name is not owner/name');
  return { owner, name };
}

/** A token narrowed to this one repository (the App's three permissions) and a client that uses it. */
async function repoAccess(repo: RepoRecord, deps: GitHubForgeDeps) {
  const repositoryId = Number(repo.externalId);
  if (repo.installationId === null || !Number.isSafeInteger(repositoryId)) {
    throw new UserzError('forge_bad_repo', 'GitHub repository has no installation or numeric id');
  }
  const retry = deps.retry ?? DEFAULT_RETRY;
  const token = await mintRepoToken({
    appId: deps.appId,
    privateKey: deps.privateKey,
    baseUrl: repo.baseUrl,
    installationId: repo.installationId,
    repositoryId,
    retry,
    onAudit: deps.onAudit,
  });
  return { repositoryId, path: repoPath(repo), retry, token, http: repoClient(repo.baseUrl, token, retry) };
}

export function createGitHubForge(repo: RepoRecord, deps: GitHubForgeDeps): Forge {
  return {
    name: 'github',
    async openReviewSession(): Promise<ReviewSession> {
      // The same narrowed token a run gets (one repository, the App's three permissions), revoked at close.
      const { path, retry, token, http } = await repoAccess(repo, deps);
      let closed = false;
      return {
        accessOf: (user) => githubAccessOf(http, path, user),
        upsertComment: (number, commentId, body) => upsertGitHubComment(http, path, number, commentId, body),
        async close() {
          if (closed) return;
          closed = true;
          await revokeRepoToken({ baseUrl: repo.baseUrl, token, retry, onAudit: deps.onAudit }).catch((e: unknown) =>
            deps.log?.warn({ repoId: repo.id, code: e instanceof UserzError ? e.code : 'unknown' }, 'GitHub token revocation failed'),
          );
        },
      };
    },
    async openSession(): Promise<ForgeSession> {
      const { repositoryId, path, retry, token, http } = await repoAccess(repo, deps);
      return guardSession(
        {
          fetchArchive: (at?: { commit: string }) => fetchGitHubArchive(http, path, at ?? { branch: repo.defaultBranch }),
          pushCommit: (input) => pushGitHubCommit(http, path, input),
          branchHead: (branch: string) => readGitHubBranchHead(http, path, branch),
          readFile: (file: string, ref: string) => readGitHubFile(http, path, file, ref),
          async deliverDraft(input: DeliveryInput) {
            const delivery = await deliverGitHubDraft(http, { ...path, defaultBranch: repo.defaultBranch }, input);
            deps.log?.info({ repoId: repo.id, runId: input.runId, number: delivery.number, created: delivery.created }, 'Draft PR ready');
            return delivery;
          },
        },
        async () => {
          let failure: string | null = null;
          try {
            await revokeRepoToken({ baseUrl: repo.baseUrl, token, retry });
          } catch (e) {
            // The token still expires within the hour; the failure is recorded, not thrown, so
            // it never hides the error that ended the run.
            failure = e instanceof UserzError ? e.code : 'unknown';
            deps.log?.warn({ repoId: repo.id, code: failure }, 'GitHub token revocation failed');
          }
          const ids = { forge: 'github' as const, installationId: token.installationId, repositoryId };
          try {
            await deps.onAudit?.(failure ? { kind: 'forge.token_revoke_failed', ...ids, code: failure } : { kind: 'forge.token_revoked', ...ids });
          } catch (e) {
            deps.log?.warn({ repoId: repo.id, code: e instanceof UserzError ? e.code : 'unknown' }, 'Forge audit event not recorded');
          }
        },
      );
    },
  };
}
