import { UserzError } from '../../errors.js';
import type { DeliveryInput, Forge, ForgeLogger, ForgeSession, RepoRecord } from '../interface.js';
import type { RetryPolicy } from '../retry.js';
import { fetchGitLabArchive, readGitLabFile } from './archive.js';
import { createGitLabApi } from './client.js';
import { deliverGitLabDraft } from './deliver.js';

export interface GitLabForgeDeps {
  /** The project's stored access token, decrypted by the caller for this session only. */
  resolveToken: (repo: RepoRecord) => Promise<string>;
  retry?: RetryPolicy;
  log?: ForgeLogger;
}

export function createGitLabForge(repo: RepoRecord, deps: GitLabForgeDeps): Forge {
  return {
    name: 'gitlab',
    async openSession(): Promise<ForgeSession> {
      const projectId = Number(repo.externalId);
      if (!Number.isSafeInteger(projectId)) throw new UserzError('forge_bad_repo', 'GitLab project id is not numeric');
      const api = createGitLabApi({ baseUrl: repo.baseUrl, token: await deps.resolveToken(repo), retry: deps.retry });
      let closed = false;
      const open = (): void => {
        if (closed) throw new UserzError('forge_session_closed', 'The forge session is closed');
      };
      return {
        async fetchArchive() {
          open();
          return fetchGitLabArchive(api, projectId, repo.defaultBranch);
        },
        async readFile(path: string, ref: string) {
          open();
          return readGitLabFile(api, projectId, path, ref);
        },
        async deliverDraft(input: DeliveryInput) {
          open();
          const delivery = await deliverGitLabDraft(api, { id: projectId, defaultBranch: repo.defaultBranch }, input);
          deps.log?.info({ repoId: repo.id, runId: input.runId, number: delivery.number, created: delivery.created }, 'Draft MR ready');
          return delivery;
        },
        // A project token is long-lived and owned by the customer: closing only drops our use of it.
        async close() {
          closed = true;
        },
      };
    },
  };
}
