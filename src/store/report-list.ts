import type { Queryable } from './db/interface.js';
import { encodeCursor, toPage, type Page, type PageRequest } from './keyset.js';
import { afterCursor, cursorParams } from './list-cursor.js';
import type { ReportSource } from './reports.js';

/**
 * An org's reports as the console's inbox (and the `/api/v1/reports` list) shows them:
 * newest first by (created_at, id) on the index of 012_console.sql, so a deep page costs
 * what the first does. `state` is the report's status as GET /api/v1/reports/:id and the
 * widget's status read it (reports.status); the run's state is beside it.
 */
export interface ReportListFilter {
  state?: string;
  /** The classifier's label (benign, spam, malicious_injection, abuse, off_topic). */
  label?: string;
  appId?: string;
  /** Where it came from: widget, slack, discord, api (reports.source). */
  channel?: string;
  /** Full-text search over the report's text; each word matches as a prefix. */
  q?: string;
  /** Only reports received at or after this time. */
  since?: Date;
}

export interface ReportListItem {
  id: string;
  createdAt: Date;
  appId: string;
  appName: string;
  channel: ReportSource;
  state: string;
  stateReason: string | null;
  label: string | null;
  /** The first characters of the reporter's text (hostile: render as text only). */
  excerpt: string;
  /** What the channel knows of the reporter (hostile: render as text only). */
  reporter: Record<string, unknown> | null;
  batchId: string | null;
  batchSize: number | null;
  runId: string | null;
  runState: string | null;
}

type ListRow = {
  id: string;
  created_at: Date;
  app_id: string;
  app_name: string;
  source: ReportSource;
  status: string;
  status_reason: string | null;
  label: string | null;
  excerpt: string | null;
  reporter: Record<string, unknown> | null;
  batch_id: string | null;
  batch_size: number | null;
  run_id: string | null;
  run_state: string | null;
};

const EXCERPT_CHARS = 240;

const COLUMNS = `r.id, r.created_at, r.app_id, a.name AS app_name, r.source, r.status, r.status_reason,
         r.classification->'classification'->>'label' AS label, left(r.content->>'text', ${EXCERPT_CHARS}) AS excerpt,
         CASE WHEN jsonb_typeof(r.content->'reporter') = 'object' THEN r.content->'reporter' END AS reporter,
         r.batch_id, b.report_count AS batch_size, ru.id AS run_id, ru.state AS run_state`;

const SELECT = `SELECT ${COLUMNS}
    FROM reports r
    JOIN apps a ON a.id = r.app_id
    LEFT JOIN batches b ON b.id = r.batch_id
    LEFT JOIN runs ru ON ru.batch_id = r.batch_id`;

/** The expression 012_console.sql indexes with GIN; the query must spell it the same way. */
const TEXT_VECTOR = `to_tsvector('simple', coalesce(r.content->>'text', ''))`;

const MAX_SEARCH_WORDS = 8;

/**
 * The search box as a tsquery: its words (letters and digits only, so nothing of tsquery's
 * syntax gets through), each a prefix, all required. Null when it holds no word.
 */
export function searchQuery(q: string): string | null {
  const words = (q.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, MAX_SEARCH_WORDS).map((w) => w.slice(0, 64));
  return words.length === 0 ? null : words.map((w) => `${w}:*`).join(' & ');
}

function whereOf(orgId: string, filter: ReportListFilter, params: unknown[]): string[] {
  const add = (v: unknown) => `$${params.push(v)}`;
  const where = [`r.org_id = ${add(orgId)}`];
  if (filter.state) where.push(`r.status = ${add(filter.state)}`);
  if (filter.label) where.push(`r.classification->'classification'->>'label' = ${add(filter.label)}`);
  if (filter.appId) where.push(`r.app_id = ${add(filter.appId)}`);
  if (filter.channel) where.push(`r.source = ${add(filter.channel)}`);
  if (filter.since) where.push(`r.created_at >= ${add(filter.since)}`);
  const tsquery = filter.q ? searchQuery(filter.q) : null;
  if (tsquery) where.push(`${TEXT_VECTOR} @@ to_tsquery('simple', ${add(tsquery)})`);
  return where;
}

export async function listReports(db: Queryable, orgId: string, filter: ReportListFilter, page: PageRequest): Promise<Page<ReportListItem>> {
  const params: unknown[] = [];
  const where = whereOf(orgId, filter, params);
  if (page.cursor) {
    const n = params.push(...cursorParams(page)) - 1;
    where.push(afterCursor('reports', n, 'r'));
  }
  const rows = await db.query<ListRow>(
    `${SELECT} WHERE ${where.join(' AND ')} ORDER BY r.created_at DESC, r.id DESC LIMIT $${params.push(page.limit + 1)}`,
    params,
  );
  return toPage(rows.map(toItem), page.limit, (i) => ({ at: i.createdAt, id: i.id }));
}

/**
 * The cursor of the page before the one that starts at `first` (its newest row), for a
 * "Previous" link: a string, null when that page is the first (no cursor), or undefined
 * when nothing is newer than `first`.
 */
export async function previousReportsCursor(
  db: Queryable,
  orgId: string,
  filter: ReportListFilter,
  first: { id: string; createdAt: Date },
  limit: number,
): Promise<string | null | undefined> {
  const params: unknown[] = [];
  const where = whereOf(orgId, filter, params);
  // The mirror of afterCursor: rows newer than `first`, by its own stored (microsecond) time.
  const id = `$${params.push(first.id)}`;
  const at = `$${params.push(first.createdAt.toISOString())}::timestamptz`;
  where.push(`(r.created_at, r.id) > (COALESCE((SELECT c.created_at FROM reports c WHERE c.id = ${id}), ${at}), ${id})`);
  const rows = await db.query<{ id: string; created_at: Date }>(
    `SELECT r.id, r.created_at FROM reports r WHERE ${where.join(' AND ')} ORDER BY r.created_at ASC, r.id ASC LIMIT $${params.push(limit + 1)}`,
    params,
  );
  if (rows.length === 0) return undefined;
  if (rows.length <= limit) return null;
  const start = rows[limit]!;
  return encodeCursor(new Date(start.created_at), start.id);
}

/**
 * The review queue: reports whose run waits for a maintainer (`needs_review`), oldest first
 * (the longest waiting on top), with why triage held them. At most `limit`.
 */
export interface HeldReport extends ReportListItem {
  /** Triage's decision reason (`prefilter_signals`, `classifier_…`, a label). */
  heldBecause: string | null;
  runReason: string | null;
  signals: Array<{ id: string; score: number; count: number }>;
  classification: ClassifierView | null;
}

export async function listHeldReports(db: Queryable, orgId: string, limit: number): Promise<HeldReport[]> {
  const rows = await db.query<ListRow & { decision_reason: string | null; run_reason: string | null; signals: unknown; classification: unknown }>(
    `SELECT ${COLUMNS}, r.decision->>'reason' AS decision_reason, ru.state_reason AS run_reason, r.signals, r.classification
       FROM reports r
       JOIN apps a ON a.id = r.app_id
       JOIN runs ru ON ru.batch_id = r.batch_id
       LEFT JOIN batches b ON b.id = r.batch_id
     WHERE r.org_id = $1 AND ru.org_id = $1 AND ru.state = 'needs_review'
     ORDER BY r.created_at ASC, r.id ASC LIMIT $2`,
    [orgId, limit],
  );
  return rows.map((r) => ({
    ...toItem(r),
    heldBecause: r.decision_reason,
    runReason: r.run_reason,
    signals: signalsOf(r.signals),
    classification: classificationOf(r.classification),
  }));
}

function toItem(r: ListRow): ReportListItem {
  return {
    id: r.id,
    createdAt: new Date(r.created_at),
    appId: r.app_id,
    appName: r.app_name,
    channel: r.source,
    state: r.status,
    stateReason: r.status_reason,
    label: r.label,
    excerpt: r.excerpt ?? '',
    reporter: r.reporter,
    batchId: r.batch_id,
    batchSize: r.batch_size === null ? null : Number(r.batch_size),
    runId: r.run_id,
    runState: r.run_state,
  };
}

/** The prefilter's signals as stored (reports.signals), keeping only well-formed entries. */
export function signalsOf(raw: unknown): Array<{ id: string; score: number; count: number }> {
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((s: unknown) => {
    if (typeof s !== 'object' || s === null) return [];
    const { id, score, count } = s as Record<string, unknown>;
    return typeof id === 'string' ? [{ id, score: Number(score) || 0, count: Number(count) || 0 }] : [];
  });
}

/**
 * The classifier's answer as stored (reports.classification, triage's ClassifierResult): its
 * label, confidence and reason, or (label null) the cause when it could not classify.
 */
export interface ClassifierView {
  label: string | null;
  confidence: number | null;
  reason: string;
  model: string | null;
}

export function classificationOf(raw: unknown): ClassifierView | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const r = raw as Record<string, unknown>;
  if (r.status === 'needs_review') {
    return { label: null, confidence: null, reason: `could not classify: ${String(r.cause ?? 'unknown')}`, model: null };
  }
  const c = (typeof r.classification === 'object' && r.classification !== null ? r.classification : {}) as Record<string, unknown>;
  if (typeof c.label !== 'string') return null;
  return {
    label: c.label,
    confidence: typeof c.confidence === 'number' ? c.confidence : null,
    reason: typeof c.reason === 'string' ? c.reason : '',
    model: typeof r.model === 'string' ? r.model : null,
  };
}
