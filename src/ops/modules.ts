import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { normalizeGitLabBaseUrl, verifyGitLabProject } from '../forge/index.js';
import { UserzError } from '../errors.js';
import { createApp } from '../intake/index.js';
import { resolveOrg, upsertRepo } from '../store/index.js';
import type { Operation } from './index.js';

/**
 * Operator actions that belong to other modules (apps from intake, GitLab projects from
 * the forge), offered through the same CLI / admin-endpoint path as the core ones.
 */
const appCreate: Operation<{ org?: string; name: string; origins: string[]; repo?: string }> = {
  input: z.object({ org: z.string().optional(), name: z.string(), origins: z.array(z.string()).default([]), repo: z.string().optional() }),
  async run(deps, input) {
    const org = await resolveOrg(deps.db, input.org);
    const created = await createApp(deps.db, deps.vault, { orgId: org.id, name: input.name, origins: input.origins, repoId: input.repo ?? null, actor: 'cli' });
    return { appId: created.app.id, orgId: org.id, publicKey: created.publicKey, signingSecret: created.signingSecret, origins: created.app.origins };
  },
};

const addGitLab: Operation<{ org?: string; project: string; token: string; baseUrl?: string }> = {
  input: z.object({ org: z.string().optional(), project: z.string().min(1), token: z.string().min(1), baseUrl: z.url().optional() }),
  async run(deps, input) {
    const org = await resolveOrg(deps.db, input.org);
    const baseUrl = normalizeGitLabBaseUrl(input.baseUrl);
    // Checked once against the project (scope, access level) before anything is stored.
    const link = await verifyGitLabProject({ baseUrl: baseUrl || null, project: input.project, token: input.token });
    const webhookSecret = randomBytes(24).toString('base64url');
    return deps.db.transaction(async (tx) => {
      // A project another org registered stays its own: a second token for it (even one with
      // access) neither moves it nor replaces that org's token and webhook secret.
      // Serialised per project, so two first registrations cannot both pass the check.
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`userz:gitlab-repo:${baseUrl}:${link.externalId}`]);
      const [owner] = await tx.query<{ org_id: string | null }>(
        "SELECT org_id FROM repos WHERE forge = 'gitlab' AND base_url = $1 AND external_id = $2 FOR UPDATE",
        [baseUrl, link.externalId],
      );
      if (owner && owner.org_id !== org.id) {
        throw new UserzError('repo_in_other_org', 'This GitLab project is already registered to another Userz org');
      }
      const tokenSecretId = await deps.vault.storeSecret(org.id, 'gitlab_token', input.token, tx);
      const webhookSecretId = await deps.vault.storeSecret(org.id, 'gitlab_webhook_secret', webhookSecret, tx);
      const repo = await upsertRepo(
        tx,
        {
          orgId: org.id,
          forge: 'gitlab',
          externalId: link.externalId,
          fullName: link.fullName,
          baseUrl,
          defaultBranch: link.defaultBranch,
          tokenSecretId,
          webhookSecretId,
        },
        'cli',
      );
      // The webhook secret is shown once so the operator can paste it into GitLab; the token never is.
      return { repoId: repo.id, fullName: repo.fullName, defaultBranch: repo.defaultBranch, webhookSecret, webhookPath: '/api/gitlab/webhooks' };
    });
  },
};

export const OPS_FROM_MODULES: Record<string, Operation> = {
  'app.create': appCreate,
  'repos.add-gitlab': addGitLab,
};
