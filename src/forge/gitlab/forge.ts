import { UserzError } from '../../errors.js';
import type { DeliveryInput, Forge, ForgeLogger, ForgeSession, RepoRecord, ReviewSession } from '../interface.js';
import type { RetryPolicy } from '../retry.js';
import { guardSession } from '../session-guard.js';
import { branchHeadCommit, fetchGitLabArchive, readGitLabFile } from './archive.js';
import { createGitLabApi } from './client.js';
import { deliverGitLabDraft, pushGitLabCommit } from './deliver.js';
import { gitLabReviewSession } from './review-session.js';

export interface GitLabForgeDeps {
  /** The project's stored access token, decrypted by the caller for this session only. */
  resolveToken: (repo: RepoRecord) => Promise<string>;
  retry?: RetryPolicy;
  log?: ForgeLogger;
}

export function createGitLabForge(repo: RepoRecord, deps: GitLabForgeDeps): Forge {
  return {
    name: 'gitlab',
    async openReviewSession(): Promise<ReviewSession> {
      const projectId = Number(repo.externalId);
      if (!Number.isSafeInteger(projectId)) throw new UserzError('forge_bad_repo', 'GitLab project id is not numeric');
      return gitLabReviewSession(createGitLabApi({ baseUrl: repo.baseUrl, token: await deps.resolveToken(repo), retry: deps.retry }), projectId);
    },
    async openSession(): Promise<ForgeSession> {
      const projectId = Number(repo.externalId);
      if (!Number.isSafeInteger(projectId)) throw new UserzError('forge_bad_repo', 'GitLab project id is not numeric');
      const api = createGitLabApi({ baseUrl: repo.baseUrl, token: await deps.resolveToken(repo), retry: deps.retry });
      // A project token is long-lived and owned by the customer: closing only drops our use of it.
      return guardSession({
        fetchArchive: (at?: { commit: string }) => fetchGitLabArchive(api, projectId, at ?? { branch: repo.defaultBranch }),
        pushCommit: (input) => pushGitLabCommit(api, projectId, input),
        branchHead: (branch: string) => branchHeadCommit(api, projectId, branch),
        readFile: (path: string, ref: string) => readGitLabFile(api, projectId, path, ref),
        async deliverDraft(input: DeliveryInput) {
          const delivery = await deliverGitLabDraft(api, { id: projectId, defaultBranch: repo.defaultBranch }, input);
          deps.log?.info({ repoId: repo.id, runId: input.runId, number: delivery.number, created: delivery.created }, 'Draft MR ready');
          return delivery;
        },
      });
    },
  };
}
