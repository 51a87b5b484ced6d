import type { Queryable } from './db/interface.js';
import { classificationOf, signalsOf, type ClassifierView } from './report-list.js';
import type { ReportSource, StoredAttachment } from './reports.js';

/**
 * One report as the console's report page shows it, read only within the asking org:
 * everything the reporter sent (hostile: render as text), what triage found, the batch it
 * joined and the run serving that batch. Null when there is no such report in the org.
 */
export interface ReportDetail {
  id: string;
  appId: string;
  appName: string;
  channel: ReportSource;
  state: string;
  stateReason: string | null;
  createdAt: Date;
  content: Record<string, unknown>;
  attachments: StoredAttachment[];
  signals: Array<{ id: string; score: number; count: number }>;
  classification: ClassifierView | null;
  decision: { action: string; reason: string } | null;
  batch: { id: string; summary: string; reportCount: number; createdAt: Date } | null;
  run: { id: string; state: string; stateReason: string | null; reviewNote: string | null } | null;
  /** Keep its files (true), let them expire (false), or follow the App (null): the App's default is appRetained. */
  retained: boolean | null;
  appRetained: boolean;
}

export async function getReportDetail(db: Queryable, orgId: string, reportId: string): Promise<ReportDetail | null> {
  const [r] = await db.query<{
    id: string;
    app_id: string;
    app_name: string;
    source: ReportSource;
    status: string;
    status_reason: string | null;
    created_at: Date;
    content: Record<string, unknown>;
    attachments: unknown;
    signals: unknown;
    classification: unknown;
    decision: unknown;
    batch_id: string | null;
    batch_summary: string | null;
    batch_count: number | null;
    batch_created_at: Date | null;
    run_id: string | null;
    run_state: string | null;
    run_reason: string | null;
    run_note: string | null;
    retained: boolean | null;
    app_retained: boolean;
  }>(
    `SELECT r.id, r.app_id, a.name AS app_name, r.source, r.status, r.status_reason, r.created_at, r.content, r.attachments,
            r.signals, r.classification, r.decision, b.id AS batch_id, b.summary AS batch_summary, b.report_count AS batch_count,
            b.created_at AS batch_created_at, ru.id AS run_id, ru.state AS run_state, ru.state_reason AS run_reason, ru.review_note AS run_note,
            r.retained, a.retain_blobs AS app_retained
       FROM reports r
       JOIN apps a ON a.id = r.app_id
       LEFT JOIN batches b ON b.id = r.batch_id
       LEFT JOIN runs ru ON ru.batch_id = r.batch_id AND ru.org_id = r.org_id
      WHERE r.id = $1 AND r.org_id = $2`,
    [reportId, orgId],
  );
  if (!r) return null;
  return {
    id: r.id,
    appId: r.app_id,
    appName: r.app_name,
    channel: r.source,
    state: r.status,
    stateReason: r.status_reason,
    createdAt: new Date(r.created_at),
    content: typeof r.content === 'object' && r.content !== null ? r.content : {},
    attachments: Array.isArray(r.attachments) ? (r.attachments as StoredAttachment[]) : [],
    signals: signalsOf(r.signals),
    classification: classificationOf(r.classification),
    decision: decisionOf(r.decision),
    batch: r.batch_id
      ? { id: r.batch_id, summary: r.batch_summary ?? '', reportCount: Number(r.batch_count ?? 0), createdAt: new Date(r.batch_created_at!) }
      : null,
    run: r.run_id ? { id: r.run_id, state: r.run_state!, stateReason: r.run_reason, reviewNote: r.run_note } : null,
    retained: r.retained,
    appRetained: r.app_retained,
  };
}

function decisionOf(raw: unknown): { action: string; reason: string } | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const { action, reason } = raw as Record<string, unknown>;
  return typeof action === 'string' ? { action, reason: typeof reason === 'string' ? reason : '' } : null;
}

export interface BatchSibling {
  id: string;
  createdAt: Date;
  state: string;
  excerpt: string;
}

/** The other reports of a batch within the org, first received first, at most `limit`. */
export async function listBatchSiblings(db: Queryable, orgId: string, batchId: string, exceptReportId: string, limit: number): Promise<BatchSibling[]> {
  const rows = await db.query<{ id: string; created_at: Date; status: string; excerpt: string | null }>(
    `SELECT id, created_at, status, left(content->>'text', 160) AS excerpt FROM reports
      WHERE batch_id = $1 AND org_id = $2 AND id <> $3 ORDER BY created_at, id LIMIT $4`,
    [batchId, orgId, exceptReportId, limit],
  );
  return rows.map((r) => ({ id: r.id, createdAt: new Date(r.created_at), state: r.status, excerpt: r.excerpt ?? '' }));
}
