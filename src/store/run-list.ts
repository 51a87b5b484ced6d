import type { Queryable } from './db/interface.js';
import { toPage, type Page, type PageRequest } from './keyset.js';
import { afterCursor, cursorParams } from './list-cursor.js';
import type { RunState } from './runs.js';

/** A run as the API lists it: ids, state and outcome, never logs or change sets. */
export interface RunListItem {
  id: string;
  appId: string;
  batchId: string;
  repoId: string | null;
  state: RunState;
  stateReason: string | null;
  verdict: unknown;
  prUrl: string | null;
  prNumber: number | null;
  reviewState: string | null;
  retained: boolean | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface RunFilter {
  state?: RunState;
  appId?: string;
  /** Created at or after. */
  since?: Date;
}

type Row = {
  id: string;
  app_id: string;
  batch_id: string;
  repo_id: string | null;
  state: RunState;
  state_reason: string | null;
  verdict: unknown;
  pr_url: string | null;
  pr_number: number | null;
  review_state: string | null;
  retained: boolean | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
};

const COLUMNS = 'id, app_id, batch_id, repo_id, state, state_reason, verdict, pr_url, pr_number, review_state, retained, created_at, started_at, finished_at';

const toItem = (r: Row): RunListItem => ({
  id: r.id,
  appId: r.app_id,
  batchId: r.batch_id,
  repoId: r.repo_id,
  state: r.state,
  stateReason: r.state_reason,
  verdict: r.verdict ?? null,
  prUrl: r.pr_url,
  prNumber: r.pr_number === null ? null : Number(r.pr_number),
  reviewState: r.review_state,
  retained: r.retained,
  createdAt: r.created_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

/** The org's runs, newest first (runs_org_list_idx). */
export async function listRuns(db: Queryable, orgId: string, filter: RunFilter, page: PageRequest): Promise<Page<RunListItem>> {
  const rows = await db.query<Row>(
    `SELECT ${COLUMNS} FROM runs
      WHERE org_id = $1 AND ${afterCursor('runs', 2)}
        AND ($4::text IS NULL OR state = $4)
        AND ($5::text IS NULL OR app_id = $5)
        AND ($6::timestamptz IS NULL OR created_at >= $6)
      ORDER BY created_at DESC, id DESC
      LIMIT $7`,
    [orgId, ...cursorParams(page), filter.state ?? null, filter.appId ?? null, filter.since?.toISOString() ?? null, page.limit + 1],
  );
  return toPage(rows.map(toItem), page.limit, (r) => ({ at: r.createdAt, id: r.id }));
}

/** One run of the org, or null (another org's run is null too). */
export async function getRunOfOrg(db: Queryable, orgId: string, runId: string): Promise<RunListItem | null> {
  const [row] = await db.query<Row>(`SELECT ${COLUMNS} FROM runs WHERE id = $1 AND org_id = $2`, [runId, orgId]);
  return row ? toItem(row) : null;
}
