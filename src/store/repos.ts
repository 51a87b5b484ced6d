import { recordAudit } from './audit.js';
import type { Queryable } from './db/interface.js';
import { newId } from './ids.js';

export type ForgeKind = 'github' | 'gitlab';

export interface Repo {
  id: string;
  orgId: string | null;
  forge: ForgeKind;
  externalId: string;
  fullName: string;
  /** '' = the public service; else the API base URL (GHES, self-hosted GitLab). */
  baseUrl: string;
  installationId: number | null;
  defaultBranch: string;
  tokenSecretId: string | null;
  webhookSecretId: string | null;
  suspendedAt: Date | null;
  removedAt: Date | null;
}

type RepoRow = {
  id: string;
  org_id: string | null;
  forge: ForgeKind;
  external_id: string;
  full_name: string;
  base_url: string;
  installation_id: number | null;
  default_branch: string;
  token_secret_id: string | null;
  webhook_secret_id: string | null;
  suspended_at: Date | null;
  removed_at: Date | null;
};

const COLUMNS =
  'id, org_id, forge, external_id, full_name, base_url, installation_id, default_branch, token_secret_id, webhook_secret_id, suspended_at, removed_at';

function toRepo(r: RepoRow): Repo {
  return {
    id: r.id,
    orgId: r.org_id,
    forge: r.forge,
    externalId: r.external_id,
    fullName: r.full_name,
    baseUrl: r.base_url,
    installationId: r.installation_id === null ? null : Number(r.installation_id),
    defaultBranch: r.default_branch,
    tokenSecretId: r.token_secret_id,
    webhookSecretId: r.webhook_secret_id,
    suspendedAt: r.suspended_at,
    removedAt: r.removed_at,
  };
}

export interface UpsertRepo {
  orgId?: string | null;
  forge: ForgeKind;
  externalId: string;
  fullName: string;
  baseUrl?: string;
  installationId?: number | null;
  defaultBranch?: string;
  tokenSecretId?: string | null;
  webhookSecretId?: string | null;
  /**
   * Set the org to `orgId` even when it is null (a GitHub repo takes its installation's
   * org, so a repo that moved to an unlinked installation is unassigned, not kept).
   */
  replaceOrg?: boolean;
}

/**
 * Inside a transaction: serialises registrations of one GitLab project (so two first
 * registrations cannot both pass the owner check) and returns the org that holds it, if any.
 */
export async function lockGitLabProjectOwner(tx: Queryable, baseUrl: string, externalId: string): Promise<{ orgId: string | null } | null> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`userz:gitlab-repo:${baseUrl}:${externalId}`]);
  const [owner] = await tx.query<{ org_id: string | null }>(
    "SELECT org_id FROM repos WHERE forge = 'gitlab' AND base_url = $1 AND external_id = $2 FOR UPDATE",
    [baseUrl, externalId],
  );
  return owner ? { orgId: owner.org_id } : null;
}

/** Insert or refresh a repo by (forge, base URL, external id); clears removed/suspended marks. */
export async function upsertRepo(db: Queryable, input: UpsertRepo, actor: string): Promise<Repo> {
  const [row] = await db.query<RepoRow & { inserted: boolean }>(
    `INSERT INTO repos (id, org_id, forge, external_id, full_name, base_url, installation_id, default_branch, token_secret_id, webhook_secret_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (forge, base_url, external_id) DO UPDATE SET
       full_name = EXCLUDED.full_name,
       org_id = CASE WHEN $11::boolean THEN EXCLUDED.org_id ELSE COALESCE(EXCLUDED.org_id, repos.org_id) END,
       installation_id = COALESCE(EXCLUDED.installation_id, repos.installation_id),
       default_branch = EXCLUDED.default_branch,
       token_secret_id = COALESCE(EXCLUDED.token_secret_id, repos.token_secret_id),
       webhook_secret_id = COALESCE(EXCLUDED.webhook_secret_id, repos.webhook_secret_id),
       removed_at = NULL,
       suspended_at = NULL,
       updated_at = now()
     RETURNING ${COLUMNS}, (xmax = 0) AS inserted`,
    [
      newId('repo'),
      input.orgId ?? null,
      input.forge,
      input.externalId,
      input.fullName,
      input.baseUrl ?? '',
      input.installationId ?? null,
      input.defaultBranch ?? 'main',
      input.tokenSecretId ?? null,
      input.webhookSecretId ?? null,
      input.replaceOrg ?? false,
    ],
  );
  const repo = toRepo(row!);
  await recordAudit(db, {
    actor,
    action: row!.inserted ? 'repo.add' : 'repo.update',
    orgId: repo.orgId,
    subject: repo.id,
    data: { forge: repo.forge, externalId: repo.externalId },
  });
  return repo;
}

export async function getRepo(db: Queryable, id: string): Promise<Repo | null> {
  const [row] = await db.query<RepoRow>(`SELECT ${COLUMNS} FROM repos WHERE id = $1`, [id]);
  return row ? toRepo(row) : null;
}

export async function findRepo(db: Queryable, forge: ForgeKind, externalId: string, baseUrl = ''): Promise<Repo | null> {
  const [row] = await db.query<RepoRow>(`SELECT ${COLUMNS} FROM repos WHERE forge = $1 AND external_id = $2 AND base_url = $3`, [forge, externalId, baseUrl]);
  return row ? toRepo(row) : null;
}

export async function listRepos(db: Queryable, filter: { orgId?: string; installationId?: number; active?: boolean } = {}): Promise<Repo[]> {
  const rows = await db.query<RepoRow>(
    `SELECT ${COLUMNS} FROM repos
      WHERE ($1::text IS NULL OR org_id = $1) AND ($2::bigint IS NULL OR installation_id = $2)
        AND ($3::boolean IS NULL OR ($3 = (removed_at IS NULL AND suspended_at IS NULL)))
      ORDER BY full_name`,
    [filter.orgId ?? null, filter.installationId ?? null, filter.active ?? null],
  );
  return rows.map(toRepo);
}

/**
 * Marks repos removed (GitHub uninstall / repo removed); rows stay for history. With
 * `installationId`, only while the repo is still in that installation: a late removal from
 * an installation the repo has left (moved to another account) leaves it where it is now.
 */
export async function markReposRemoved(
  db: Queryable,
  forge: ForgeKind,
  externalIds: string[],
  actor: string,
  baseUrl = '',
  installationId: number | null = null,
): Promise<number> {
  if (externalIds.length === 0) return 0;
  const rows = await db.query<{ id: string; org_id: string | null }>(
    `UPDATE repos SET removed_at = now(), updated_at = now()
      WHERE forge = $1 AND base_url = $2 AND external_id = ANY($3::text[]) AND removed_at IS NULL
        AND ($4::bigint IS NULL OR installation_id = $4) RETURNING id, org_id`,
    [forge, baseUrl, externalIds, installationId],
  );
  for (const r of rows) await recordAudit(db, { actor, action: 'repo.remove', orgId: r.org_id, subject: r.id });
  return rows.length;
}

export async function setInstallationSuspended(db: Queryable, installationId: number, suspended: boolean, actor: string): Promise<number> {
  const rows = await db.query<{ id: string; org_id: string | null }>(
    `UPDATE repos SET suspended_at = ${suspended ? 'now()' : 'NULL'}, updated_at = now() WHERE installation_id = $1 RETURNING id, org_id`,
    [installationId],
  );
  for (const r of rows) await recordAudit(db, { actor, action: suspended ? 'repo.suspend' : 'repo.unsuspend', orgId: r.org_id, subject: r.id });
  return rows.length;
}

/** The live repos of a forge with this external id (GitLab: one per instance that has the project id); order as stored. */
export async function listLiveReposByExternalId(
  db: Queryable,
  forge: ForgeKind,
  externalId: string,
): Promise<Array<{ id: string; webhookSecretId: string | null }>> {
  const rows = await db.query<{ id: string; webhook_secret_id: string | null }>(
    `SELECT id, webhook_secret_id FROM repos WHERE forge = $1 AND external_id = $2 AND removed_at IS NULL`,
    [forge, externalId],
  );
  return rows.map((r) => ({ id: r.id, webhookSecretId: r.webhook_secret_id }));
}

/** The repo's stored token secret, only when that secret belongs to the repo's own org; null otherwise. */
export async function getRepoTokenSecretId(db: Queryable, repoId: string): Promise<string | null> {
  const [row] = await db.query<{ token_secret_id: string | null }>(
    'SELECT r.token_secret_id FROM repos r JOIN secrets s ON s.id = r.token_secret_id AND s.org_id = r.org_id WHERE r.id = $1',
    [repoId],
  );
  return row?.token_secret_id ?? null;
}

/**
 * True when the repo exists in `orgId`, holding it FOR SHARE until the caller's transaction
 * ends: a move of the repo to another org waits, or this read waits for the move.
 */
export async function lockRepoOfOrg(tx: Queryable, repoId: string, orgId: string): Promise<boolean> {
  const rows = await tx.query('SELECT 1 FROM repos WHERE id = $1 AND org_id = $2 FOR SHARE', [repoId, orgId]);
  return rows.length > 0;
}

/** The repos of a GitHub installation not yet marked removed: their external id and instance. */
export async function listLiveReposOfInstallation(tx: Queryable, installationId: number): Promise<Array<{ externalId: string; baseUrl: string }>> {
  const rows = await tx.query<{ external_id: string; base_url: string }>(
    'SELECT external_id, base_url FROM repos WHERE installation_id = $1 AND removed_at IS NULL',
    [installationId],
  );
  return rows.map((r) => ({ externalId: r.external_id, baseUrl: r.base_url }));
}

/** `.userz.yml` as a run read it at its base commit (policyText null: the commit has none). */
export interface RepoPolicySnapshot {
  repoId: string;
  baseCommit: string;
  policyText: string | null;
  readAt: Date;
}

/** Replaces the repository's snapshot: the newest read wins (a run reads the default branch's head). */
export async function recordRepoPolicy(
  db: Queryable,
  s: { repoId: string; orgId: string; baseCommit: string; policyText: string | null; readAt?: Date },
): Promise<void> {
  await db.query(
    `INSERT INTO repo_policy_snapshots (repo_id, org_id, base_commit, policy_text, read_at)
     VALUES ($1, $2, $3, $4, COALESCE($5::timestamptz, now()))
     ON CONFLICT (repo_id) DO UPDATE SET org_id = EXCLUDED.org_id, base_commit = EXCLUDED.base_commit,
       policy_text = EXCLUDED.policy_text, read_at = EXCLUDED.read_at
     WHERE repo_policy_snapshots.read_at <= EXCLUDED.read_at`,
    [s.repoId, s.orgId, s.baseCommit, s.policyText?.replace(/\u0000/g, '\ufffd') ?? null, s.readAt ?? null],
  );
}

/** The org's snapshots by repository id. */
export async function listRepoPolicies(db: Queryable, orgId: string): Promise<Map<string, RepoPolicySnapshot>> {
  const rows = await db.query<{ repo_id: string; base_commit: string; policy_text: string | null; read_at: Date }>(
    'SELECT repo_id, base_commit, policy_text, read_at FROM repo_policy_snapshots WHERE org_id = $1',
    [orgId],
  );
  return new Map(rows.map((r) => [r.repo_id, { repoId: r.repo_id, baseCommit: r.base_commit, policyText: r.policy_text, readAt: r.read_at }]));
}
