import type { Logger } from 'pino';
import { UserzError } from '../errors.js';
import { createForge, type Forge, type ForgeAuditEvent } from '../forge/index.js';
import type { Vault } from '../security/index.js';
import { getRepoTokenSecretId, recordAudit, type Db, type Repo } from '../store/index.js';

export interface ForgeForDeps {
  db: Db;
  vault: Vault;
  log: Logger;
  /** The GitHub App; absent when none is configured (GitHub runs then fail `forge_not_configured`). */
  github?: { appId: string | number; privateKey: string };
}

/**
 * `PipelineDeps.forgeFor`: the forge of a run's repo, with its credentials resolved at use
 * (the GitLab project token is decrypted only when the session opens) and its audit events
 * recorded against the repo's org.
 */
export function forgeFor(deps: ForgeForDeps): (repo: Repo) => Forge {
  return (repo) =>
    createForge(repo, {
      github: deps.github,
      gitlabToken: async (r) => {
        // Only a token the repo's own org stored (the run has checked that org against the report and App).
        const secretId = await getRepoTokenSecretId(deps.db, r.id);
        if (!secretId) throw new UserzError('gitlab_token_missing', 'The GitLab project has no stored token');
        return deps.vault.revealSecret(secretId, { actor: 'pipeline', purpose: 'gitlab run' });
      },
      onAudit: (event) => recordForgeAudit(deps.db, repo.orgId, repo.id, event),
      log: deps.log.child({ name: 'forge' }),
    });
}

async function recordForgeAudit(db: Db, orgId: string | null, repoId: string, event: ForgeAuditEvent): Promise<void> {
  const { kind, ...data } = event;
  await recordAudit(db, { actor: 'pipeline', action: kind, orgId, subject: repoId, data: data as Record<string, string | number> });
}
