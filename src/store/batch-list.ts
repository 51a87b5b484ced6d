import type { Queryable } from './db/interface.js';
import { toPage, type Page, type PageRequest } from './keyset.js';
import { afterCursor, cursorParams } from './list-cursor.js';

/** A batch as the API lists it: its summary (written by triage from the reports, scrubbed), counts and its run. */
export interface BatchListItem {
  id: string;
  appId: string;
  summary: string;
  reportCount: number;
  openUntil: Date;
  firstSeenAt: Date;
  lastSeenAt: Date;
  createdAt: Date;
  run: { id: string; state: string } | null;
}

export interface BatchFilter {
  appId?: string;
  /** Created at or after. */
  since?: Date;
}

type Row = {
  id: string;
  app_id: string;
  summary: string;
  report_count: number;
  open_until: Date;
  first_seen_at: Date;
  last_seen_at: Date;
  created_at: Date;
  run_id: string | null;
  run_state: string | null;
};

const SELECT = `SELECT b.id, b.app_id, b.summary, b.report_count, b.open_until, b.first_seen_at, b.last_seen_at, b.created_at,
                       u.id AS run_id, u.state AS run_state
                  FROM batches b JOIN apps a ON a.id = b.app_id LEFT JOIN runs u ON u.batch_id = b.id`;

const toItem = (r: Row): BatchListItem => ({
  id: r.id,
  appId: r.app_id,
  summary: r.summary,
  reportCount: Number(r.report_count),
  openUntil: r.open_until,
  firstSeenAt: r.first_seen_at,
  lastSeenAt: r.last_seen_at,
  createdAt: r.created_at,
  run: r.run_id ? { id: r.run_id, state: r.run_state! } : null,
});

/** The org's batches (through its Apps: a batch has no org column), newest first. */
export async function listBatches(db: Queryable, orgId: string, filter: BatchFilter, page: PageRequest): Promise<Page<BatchListItem>> {
  const rows = await db.query<Row>(
    `${SELECT}
      WHERE a.org_id = $1 AND ${afterCursor('batches', 2, 'b')}
        AND ($4::text IS NULL OR b.app_id = $4)
        AND ($5::timestamptz IS NULL OR b.created_at >= $5)
      ORDER BY b.created_at DESC, b.id DESC
      LIMIT $6`,
    [orgId, ...cursorParams(page), filter.appId ?? null, filter.since?.toISOString() ?? null, page.limit + 1],
  );
  return toPage(rows.map(toItem), page.limit, (b) => ({ at: b.createdAt, id: b.id }));
}

/** One batch of the org with its report ids (first first), or null. */
export async function getBatchOfOrg(db: Queryable, orgId: string, batchId: string): Promise<(BatchListItem & { reportIds: string[] }) | null> {
  const [row] = await db.query<Row>(`${SELECT} WHERE b.id = $1 AND a.org_id = $2`, [batchId, orgId]);
  if (!row) return null;
  const reports = await db.query<{ id: string }>('SELECT id FROM reports WHERE batch_id = $1 AND org_id = $2 ORDER BY created_at, id', [batchId, orgId]);
  return { ...toItem(row), reportIds: reports.map((r) => r.id) };
}
