/**
 * The forge module's public face. The pipeline asks `createForge` for a `Forge` and never
 * imports ./github or ./gitlab itself; webhook routes and the CLI use the named helpers.
 */
import { UserzError } from '../errors.js';
import { createGitHubForge } from './github/index.js';
import { createGitLabForge, type GitLabForgeDeps } from './gitlab/index.js';
import type { Forge, ForgeAuditEvent, ForgeLogger, RepoRecord } from './interface.js';
import type { RetryPolicy } from './retry.js';

export interface ForgeDeps {
  /** The GitHub App; required for GitHub repositories. */
  github?: { appId: string | number; privateKey: string };
  /** The GitLab project token from the vault; required for GitLab repositories. */
  gitlabToken?: GitLabForgeDeps['resolveToken'];
  retry?: RetryPolicy;
  onAudit?: (event: ForgeAuditEvent) => void | Promise<void>;
  log?: ForgeLogger;
}

export function createForge(repo: RepoRecord, deps: ForgeDeps): Forge {
  if (repo.forge === 'github') {
    if (!deps.github) throw new UserzError('forge_not_configured', 'No GitHub App is configured');
    return createGitHubForge(repo, { ...deps.github, retry: deps.retry, onAudit: deps.onAudit, log: deps.log });
  }
  if (!deps.gitlabToken) throw new UserzError('forge_not_configured', 'No GitLab token source is configured');
  return createGitLabForge(repo, { resolveToken: deps.gitlabToken, retry: deps.retry, log: deps.log });
}

export type {
  DeliveryInput,
  Forge,
  ForgeAuditEvent,
  ForgeLogger,
  ForgeSession,
  PrDescription,
  RepoRecord,
  RepositoryArchive,
  ReviewSession,
} from './interface.js';
export type { RetryPolicy } from './retry.js';
export { commitTrailers, renderPrBody, renderCommitMessage, REPRODUCED_TEXT, UNPROVEN_TEXT } from './pr-body.js';
export { parsePullRequestEvent, parseGitHubFollowUpEvent } from './github/index.js';
export {
  verifyGitLabWebhook,
  deliveryIdOf,
  parseMergeRequestEvent,
  parseGitLabFollowUpNote,
  checkGitLabPayload,
  gitLabProjectIdOf,
  GITLAB_OPS,
  addGitLabProject,
  registerGitLabApiRoutes,
} from './gitlab/index.js';
export { createInstallLink, registerGitHubInstallRoutes } from './github/install-link.js';
export { registerInstallationEvents } from './github/installations.js';
export { registerGitHubWebhookRoute } from './github/webhook-route.js';
