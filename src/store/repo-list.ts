import type { Queryable } from './db/interface.js';
import { toPage, type Page, type PageRequest } from './keyset.js';
import { afterCursor, cursorParams } from './list-cursor.js';
import type { ForgeKind } from './repos.js';

/** A repository as the API shows it: no secret ids. */
export interface RepoListItem {
  id: string;
  forge: ForgeKind;
  fullName: string;
  externalId: string;
  /** '' = the public service; else the API base URL. */
  baseUrl: string;
  defaultBranch: string;
  installationId: number | null;
  suspendedAt: Date | null;
  removedAt: Date | null;
  createdAt: Date;
}

export interface RepoFilter {
  forge?: ForgeKind;
  /** true: neither removed nor suspended; false: removed or suspended. */
  active?: boolean;
}

type Row = {
  id: string;
  forge: ForgeKind;
  full_name: string;
  external_id: string;
  base_url: string;
  default_branch: string;
  installation_id: string | number | null;
  suspended_at: Date | null;
  removed_at: Date | null;
  created_at: Date;
};

const COLUMNS = 'id, forge, full_name, external_id, base_url, default_branch, installation_id, suspended_at, removed_at, created_at';

const toItem = (r: Row): RepoListItem => ({
  id: r.id,
  forge: r.forge,
  fullName: r.full_name,
  externalId: r.external_id,
  baseUrl: r.base_url,
  defaultBranch: r.default_branch,
  installationId: r.installation_id === null ? null : Number(r.installation_id),
  suspendedAt: r.suspended_at,
  removedAt: r.removed_at,
  createdAt: r.created_at,
});

/** The org's repositories, newest first (repos_org_list_idx). */
export async function listReposPage(db: Queryable, orgId: string, filter: RepoFilter, page: PageRequest): Promise<Page<RepoListItem>> {
  const rows = await db.query<Row>(
    `SELECT ${COLUMNS} FROM repos
      WHERE org_id = $1 AND ${afterCursor('repos', 2)}
        AND ($4::text IS NULL OR forge = $4)
        AND ($5::boolean IS NULL OR ($5 = (removed_at IS NULL AND suspended_at IS NULL)))
      ORDER BY created_at DESC, id DESC
      LIMIT $6`,
    [orgId, ...cursorParams(page), filter.forge ?? null, filter.active ?? null, page.limit + 1],
  );
  return toPage(rows.map(toItem), page.limit, (r) => ({ at: r.createdAt, id: r.id }));
}

/** One repository of the org, or null. */
export async function getRepoOfOrg(db: Queryable, orgId: string, repoId: string): Promise<RepoListItem | null> {
  const [row] = await db.query<Row>(`SELECT ${COLUMNS} FROM repos WHERE id = $1 AND org_id = $2`, [repoId, orgId]);
  return row ? toItem(row) : null;
}
