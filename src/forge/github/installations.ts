import type { Logger } from 'pino';
import type { Probot } from 'probot';
import type { Db, Queryable } from '../../store/index.js';
import {
  forgetInstallation,
  listLiveReposOfInstallation,
  markReposRemoved,
  orgOfInstallation,
  recordDelivery,
  setInstallationSuspended,
  unlinkForeignApps,
  upsertRepo,
} from '../../store/index.js';

interface InstallationRepo {
  id: number;
  full_name: string;
}

/**
 * Keeps the repos table true to the GitHub App's installations. Each delivery is
 * recorded by its X-GitHub-Delivery id in the same transaction as its effect, so a
 * redelivered id does nothing more and a failed one can be redelivered.
 *
 * Which Userz org owns an installation is never inferred here (not from the number of
 * orgs, not from a payload): only `userz repos link-installation` or an install link
 * whose callback proved the installer administers the installation (./install-link.ts)
 * links one. Until then its repos stay unassigned and no App can use them. A repo takes
 * its installation's org, so a repo moved to an unlinked installation becomes unassigned.
 * Default branches are not in these payloads; runs read the live default branch when
 * they fetch the archive.
 */
export function registerInstallationEvents(app: Probot, deps: { db: Db; log: Logger; baseUrl?: string }): void {
  const baseUrl = deps.baseUrl ?? '';

  app.on('installation', async (context) => {
    const { action, installation } = context.payload;
    const log = deps.log.child({ deliveryId: context.id, installationId: installation.id, action });
    await deps.db.transaction(async (tx) => {
      if (!(await recordDelivery(tx, 'github', context.id, `installation.${action}`))) {
        log.info('Duplicate GitHub delivery ignored');
        return;
      }
      const repos: InstallationRepo[] = 'repositories' in context.payload && context.payload.repositories ? context.payload.repositories : [];
      switch (action) {
        case 'created':
        case 'new_permissions_accepted':
        case 'unsuspend':
          if (action === 'unsuspend') await setInstallationSuspended(tx, installation.id, false, 'github');
          await addRepos(tx, installation.id, repos, baseUrl);
          break;
        case 'deleted':
          await markReposRemoved(
            tx,
            'github',
            repos.map((r) => String(r.id)),
            'github',
            baseUrl,
            installation.id,
          );
          await removeInstallation(tx, installation.id);
          break;
        case 'suspend':
          await setInstallationSuspended(tx, installation.id, true, 'github');
          break;
        default:
          break;
      }
      log.info({ repos: repos.length }, 'GitHub installation event applied');
    });
  });

  app.on('installation_repositories', async (context) => {
    const { action, installation, repositories_added, repositories_removed } = context.payload;
    const log = deps.log.child({ deliveryId: context.id, installationId: installation.id, action });
    await deps.db.transaction(async (tx) => {
      if (!(await recordDelivery(tx, 'github', context.id, `installation_repositories.${action}`))) {
        log.info('Duplicate GitHub delivery ignored');
        return;
      }
      await addRepos(tx, installation.id, repositories_added, baseUrl);
      await markReposRemoved(
        tx,
        'github',
        repositories_removed.map((r) => String(r.id)),
        'github',
        baseUrl,
        installation.id,
      );
      log.info({ added: repositories_added.length, removed: repositories_removed.length }, 'GitHub installation repositories updated');
    });
  });
}

async function addRepos(tx: Queryable, installationId: number, repos: InstallationRepo[], baseUrl: string): Promise<void> {
  if (repos.length === 0) return;
  const orgId = await orgOfInstallation(tx, installationId);
  const ids: string[] = [];
  for (const repo of repos) {
    const saved = await upsertRepo(
      tx,
      { orgId, replaceOrg: true, forge: 'github', externalId: String(repo.id), fullName: repo.full_name, baseUrl, installationId },
      'github',
    );
    ids.push(saved.id);
  }
  await unlinkForeignApps(tx, ids, orgId, 'github');
}

async function removeInstallation(tx: Queryable, installationId: number): Promise<void> {
  const repos = await listLiveReposOfInstallation(tx, installationId);
  for (const r of repos) await markReposRemoved(tx, 'github', [r.externalId], 'github', r.baseUrl, installationId);
  await forgetInstallation(tx, installationId, 'github');
}
