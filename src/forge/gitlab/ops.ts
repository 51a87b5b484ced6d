import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { UserzError } from '../../errors.js';
import type { Operation, OpsDeps } from '../../ops/index.js';
import { lockGitLabProjectOwner, resolveOrg, upsertRepo } from '../../store/index.js';
import { normalizeGitLabBaseUrl } from './client.js';
import { verifyGitLabProject } from './connect.js';

export interface AddedGitLabProject {
  repoId: string;
  fullName: string;
  defaultBranch: string;
  /** Shown once so the operator can paste it into GitLab's webhook settings; the token never is. */
  webhookSecret: string;
  webhookPath: string;
}

/**
 * Registers a GitLab project for an org: the token is checked once against the project
 * (scope, access level), then stored encrypted with a new webhook secret. The CLI's
 * `repos add-gitlab` and the console's repositories page both call this.
 */
export async function addGitLabProject(
  deps: Pick<OpsDeps, 'db' | 'vault'>,
  input: { orgId: string; project: string; token: string; baseUrl?: string; actor: string },
): Promise<AddedGitLabProject> {
  const baseUrl = normalizeGitLabBaseUrl(input.baseUrl);
  const link = await verifyGitLabProject({ baseUrl: baseUrl || null, project: input.project, token: input.token });
  const webhookSecret = randomBytes(24).toString('base64url');
  return deps.db.transaction(async (tx) => {
    // A project another org registered stays its own: a second token for it (even one with
    // access) neither moves it nor replaces that org's token and webhook secret.
    // Serialised per project, so two first registrations cannot both pass the check.
    const owner = await lockGitLabProjectOwner(tx, baseUrl, link.externalId);
    if (owner && owner.orgId !== input.orgId) {
      throw new UserzError('repo_in_other_org', 'This GitLab project is already registered to another Userz org');
    }
    const tokenSecretId = await deps.vault.storeSecret(input.orgId, 'gitlab_token', input.token, tx);
    const webhookSecretId = await deps.vault.storeSecret(input.orgId, 'gitlab_webhook_secret', webhookSecret, tx);
    const repo = await upsertRepo(
      tx,
      {
        orgId: input.orgId,
        forge: 'gitlab',
        externalId: link.externalId,
        fullName: link.fullName,
        baseUrl,
        defaultBranch: link.defaultBranch,
        tokenSecretId,
        webhookSecretId,
      },
      input.actor,
    );
    return { repoId: repo.id, fullName: repo.fullName, defaultBranch: repo.defaultBranch, webhookSecret, webhookPath: '/api/gitlab/webhooks' };
  });
}

/** `userz repos add-gitlab`: a forge operation offered through the CLI / admin-endpoint path (ops/). */
const addGitLab: Operation<{ org?: string; project: string; token: string; baseUrl?: string }> = {
  input: z.object({ org: z.string().optional(), project: z.string().min(1), token: z.string().min(1), baseUrl: z.url().optional() }),
  async run(deps, input) {
    const org = await resolveOrg(deps.db, input.org);
    return addGitLabProject(deps, { orgId: org.id, project: input.project, token: input.token, baseUrl: input.baseUrl, actor: 'cli' });
  },
};

export const GITLAB_OPS: Record<string, Operation> = { 'repos.add-gitlab': addGitLab };
