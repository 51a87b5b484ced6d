import { UserzError } from '../errors.js';
import { recordAudit } from './audit.js';
import type { Queryable } from './db/interface.js';

/**
 * Which org a GitHub installation belongs to. The only writers are the explicit acts
 * (`userz repos link-installation`, the install-link callback); installation webhooks
 * only read it, so a new installation's repos stay unassigned until one of those acts.
 * Call it in the transaction that writes the repos: it holds the installation until then.
 */
export async function orgOfInstallation(db: Queryable, installationId: number): Promise<string | null> {
  await lockInstallation(db, installationId);
  const [row] = await db.query<{ org_id: string }>('SELECT org_id FROM github_installations WHERE installation_id = $1', [installationId]);
  return row?.org_id ?? null;
}

/**
 * One writer per installation at a time, until the caller's transaction ends: a webhook that
 * assigns new repos the installation's org, a link or move, a deletion. Without it a repo
 * added while an operator moves the installation from A to B could still be given A (read
 * before the move committed, written after its repo update). A row lock cannot serve: before
 * the first link there is no row to lock.
 */
async function lockInstallation(tx: Queryable, installationId: number): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`userz:installation:${installationId}`]);
}

export interface LinkInstallation {
  installationId: number;
  orgId: string;
  actor: string;
  /** The operator may move an installation between orgs; an install link may not. */
  allowMove: boolean;
}

/**
 * Links an installation and every repo it has (now or later) to one org, in the caller's
 * transaction. Apps of another org that pointed at those repos lose the link.
 */
export async function linkInstallationToOrg(tx: Queryable, input: LinkInstallation): Promise<{ repos: number; previousOrgId: string | null }> {
  await lockInstallation(tx, input.installationId);
  const [current] = await tx.query<{ org_id: string }>('SELECT org_id FROM github_installations WHERE installation_id = $1 FOR UPDATE', [input.installationId]);
  const previousOrgId = current?.org_id ?? null;
  if (previousOrgId && previousOrgId !== input.orgId && !input.allowMove) {
    throw new UserzError(
      'installation_already_linked',
      'This GitHub installation is already linked to another Userz org; an operator can move it with `userz repos link-installation`',
    );
  }
  await tx.query(
    `INSERT INTO github_installations (installation_id, org_id, linked_by) VALUES ($1, $2, $3)
     ON CONFLICT (installation_id) DO UPDATE SET org_id = EXCLUDED.org_id, linked_by = EXCLUDED.linked_by, linked_at = now()`,
    [input.installationId, input.orgId, input.actor],
  );
  const rows = await tx.query<{ id: string }>("UPDATE repos SET org_id = $1, updated_at = now() WHERE forge = 'github' AND installation_id = $2 RETURNING id", [
    input.orgId,
    input.installationId,
  ]);
  const repoIds = rows.map((r) => r.id);
  await unlinkForeignApps(tx, repoIds, input.orgId, input.actor);
  await recordAudit(tx, {
    actor: input.actor,
    action: 'installation.link',
    orgId: input.orgId,
    subject: String(input.installationId),
    data: { previousOrgId, repos: repoIds.length },
  });
  for (const id of repoIds)
    await recordAudit(tx, { actor: input.actor, action: 'repo.assign_org', orgId: input.orgId, subject: id, data: { installationId: input.installationId } });
  return { repos: repoIds.length, previousOrgId };
}

/** The installation was deleted on GitHub: a later installation must be linked again. */
export async function forgetInstallation(tx: Queryable, installationId: number, actor: string): Promise<void> {
  await lockInstallation(tx, installationId);
  const rows = await tx.query<{ org_id: string }>('DELETE FROM github_installations WHERE installation_id = $1 RETURNING org_id', [installationId]);
  if (rows[0]) await recordAudit(tx, { actor, action: 'installation.unlink', orgId: rows[0].org_id, subject: String(installationId) });
}

/** Apps may point only at repos of their own org. */
export async function unlinkForeignApps(tx: Queryable, repoIds: string[], orgId: string | null, actor: string): Promise<void> {
  if (repoIds.length === 0) return;
  const apps = await tx.query<{ id: string; org_id: string }>(
    'UPDATE apps SET repo_id = NULL WHERE repo_id = ANY($1::text[]) AND ($2::text IS NULL OR org_id <> $2) RETURNING id, org_id',
    [repoIds, orgId],
  );
  for (const a of apps) await recordAudit(tx, { actor, action: 'app.repo_unlinked', orgId: a.org_id, subject: a.id, data: { reason: 'repo_changed_org' } });
}

/** One pending install link: the nonce's hash, for `consumeInstallState`. */
export async function saveInstallState(db: Queryable, input: { nonceHash: string; orgId: string; createdBy: string; expiresAt: Date }): Promise<void> {
  // Used and expired states are only history after a day (the audit log keeps who made them).
  await db.query("DELETE FROM github_install_states WHERE expires_at < now() - interval '1 day'");
  await db.query('INSERT INTO github_install_states (nonce_hash, org_id, created_by, expires_at) VALUES ($1, $2, $3, $4)', [
    input.nonceHash,
    input.orgId,
    input.createdBy,
    input.expiresAt,
  ]);
  await recordAudit(db, { actor: input.createdBy, action: 'installation.link_created', orgId: input.orgId });
}

/** Marks the state used; true only for the first use of an unexpired state of that org. */
export async function consumeInstallState(db: Queryable, nonceHash: string, orgId: string): Promise<boolean> {
  const rows = await db.query(
    'UPDATE github_install_states SET consumed_at = now() WHERE nonce_hash = $1 AND org_id = $2 AND consumed_at IS NULL AND expires_at > now() RETURNING 1',
    [nonceHash, orgId],
  );
  return rows.length === 1;
}

/** The GitHub installations linked to an org, newest link first. */
export async function listOrgInstallations(db: Queryable, orgId: string): Promise<Array<{ installationId: number; linkedAt: Date; linkedBy: string }>> {
  const rows = await db.query<{ installation_id: string | number; linked_at: Date; linked_by: string }>(
    'SELECT installation_id, linked_at, linked_by FROM github_installations WHERE org_id = $1 ORDER BY linked_at DESC, installation_id',
    [orgId],
  );
  return rows.map((r) => ({ installationId: Number(r.installation_id), linkedAt: r.linked_at, linkedBy: r.linked_by }));
}
