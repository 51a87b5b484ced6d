import { createHash, timingSafeEqual } from 'node:crypto';
import { insertBlobRows } from './blob-lifecycle.js';
import type { Queryable } from './db/interface.js';

export type ReportSource = 'widget' | 'slack' | 'discord' | 'api';

/** A stored attachment: the blob key and what the reporter said it was. */
export interface StoredAttachment {
  id: string;
  name: string;
  contentType: string;
  size: number;
  blobKey: string;
}

/** Where to tell the reporter the outcome. */
export type ReplyTo =
  | { kind: 'widget' }
  | { kind: 'slack'; teamId: string; channelId: string; userId: string; threadTs?: string }
  | { kind: 'discord'; guildId: string; channelId: string; userId: string; applicationId: string }
  | { kind: 'api' };

export type ReportOutcome = { kind: 'pr_opened'; url: string } | { kind: 'refused'; reason: string } | { kind: 'failed' };

export interface Report {
  id: string;
  orgId: string;
  appId: string;
  source: ReportSource;
  /** The ingest body (ReportContent). Never logged. */
  content: Record<string, unknown>;
  replyTo: ReplyTo | null;
  reporterKey: string | null;
  attachments: StoredAttachment[];
  status: string;
  outcome: ReportOutcome | null;
  notifiedAt: Date | null;
  createdAt: Date;
}

type ReportRow = {
  id: string;
  org_id: string;
  app_id: string;
  source: ReportSource;
  content: Record<string, unknown>;
  reply_to: ReplyTo | null;
  reporter_key: string | null;
  attachments: StoredAttachment[];
  status: string;
  outcome: ReportOutcome | null;
  notified_at: Date | null;
  created_at: Date;
};

const COLUMNS = 'id, org_id, app_id, source, content, reply_to, reporter_key, attachments, status, outcome, notified_at, created_at';

function toReport(r: ReportRow): Report {
  return {
    id: r.id,
    orgId: r.org_id,
    appId: r.app_id,
    source: r.source,
    content: r.content,
    replyTo: r.reply_to,
    reporterKey: r.reporter_key,
    attachments: r.attachments,
    status: r.status,
    outcome: r.outcome,
    notifiedAt: r.notified_at,
    createdAt: r.created_at,
  };
}

export interface NewReport {
  id: string;
  orgId: string;
  appId: string;
  source: ReportSource;
  content: Record<string, unknown>;
  replyTo: ReplyTo | null;
  reporterKey: string | null;
  attachments: StoredAttachment[];
  /** The plaintext status token; only its SHA-256 is stored. */
  statusToken: string | null;
}

/** Status tokens are bearer secrets for one report: keep only a hash, like a password. */
function hashStatusToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export async function insertReport(tx: Queryable, input: NewReport, actor: string): Promise<Report> {
  const [report] = await insertReports(tx, [input], actor);
  return report!;
}

/**
 * Inserts several reports and their audit events with one statement each, so a busy
 * intake (group commit, src/intake/accept.ts) pays two round trips for a batch instead
 * of two per report.
 */
export async function insertReports(tx: Queryable, inputs: NewReport[], actor: string): Promise<Report[]> {
  if (inputs.length === 0) return [];
  const params: unknown[] = [];
  const rows = inputs.map((input) => {
    const base = params.length;
    params.push(
      input.id,
      input.orgId,
      input.appId,
      input.source,
      JSON.stringify(input.content),
      input.replyTo === null ? null : JSON.stringify(input.replyTo),
      input.reporterKey,
      JSON.stringify(input.attachments),
      input.statusToken === null ? null : hashStatusToken(input.statusToken),
    );
    return `(${Array.from({ length: 9 }, (_, i) => `$${base + i + 1}`).join(', ')})`;
  });
  const inserted = await tx.query<ReportRow>(
    `INSERT INTO reports (id, org_id, app_id, source, content, reply_to, reporter_key, attachments, status_token)
     VALUES ${rows.join(', ')} RETURNING ${COLUMNS}`,
    params,
  );
  // Audit rows as recordAudit writes them (ids and counts only, never report text).
  const auditParams: unknown[] = [];
  const auditRows = inputs.map((input) => {
    const base = auditParams.length;
    auditParams.push(
      actor,
      'report.receive',
      input.orgId,
      input.id,
      JSON.stringify({ appId: input.appId, source: input.source, attachments: input.attachments.length }),
    );
    return `($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}, $${base + 5})`;
  });
  await tx.query(`INSERT INTO audit_events (actor, action, org_id, subject, data) VALUES ${auditRows.join(', ')}`, auditParams);
  // Each attachment's owner row and creation time, in the report's own transaction (issue 15).
  await insertBlobRows(
    tx,
    inputs.flatMap((input) =>
      input.attachments.map((a) => ({ key: a.blobKey, orgId: input.orgId, appId: input.appId, kind: 'attachment' as const, reportId: input.id })),
    ),
  );
  const byId = new Map(inserted.map((r) => [r.id, toReport(r)]));
  return inputs.map((i) => byId.get(i.id)!);
}

export async function getReport(db: Queryable, id: string): Promise<Report | null> {
  const [row] = await db.query<ReportRow>(`SELECT ${COLUMNS} FROM reports WHERE id = $1`, [id]);
  return row ? toReport(row) : null;
}

/** Several reports in one round trip (triage reads the reports of the jobs it claimed together); missing ids are left out. */
export async function getReports(db: Queryable, ids: readonly string[]): Promise<Report[]> {
  if (ids.length === 0) return [];
  const rows = await db.query<ReportRow>(`SELECT ${COLUMNS} FROM reports WHERE id = ANY($1::text[])`, [[...ids]]);
  return rows.map(toReport);
}

/** The report when `token` is its status token (constant-time compare), else null. */
export async function getReportByStatusToken(db: Queryable, id: string, token: string): Promise<Report | null> {
  const [row] = await db.query<ReportRow & { status_token: string | null }>(`SELECT ${COLUMNS}, status_token FROM reports WHERE id = $1`, [id]);
  if (!row || !row.status_token) return null;
  const expected = Buffer.from(row.status_token, 'hex');
  const actual = Buffer.from(hashStatusToken(token), 'hex');
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return null;
  return toReport(row);
}

/** Records what the reporter is told; the first outcome wins so a retried job does not re-tell. */
export async function recordReportOutcome(db: Queryable, id: string, outcome: ReportOutcome): Promise<{ first: boolean }> {
  const rows = await db.query('UPDATE reports SET outcome = $2 WHERE id = $1 AND outcome IS NULL RETURNING id', [id, JSON.stringify(outcome)]);
  return { first: rows.length > 0 };
}

export async function markReportNotified(db: Queryable, id: string): Promise<void> {
  await db.query('UPDATE reports SET notified_at = now() WHERE id = $1', [id]);
}

/** Moves a report that is still `received` and unbatched to `errored` with the reason; its org when it moved. */
export async function markReportErrored(tx: Queryable, reportId: string, reason: string): Promise<{ orgId: string } | null> {
  const [row] = await tx.query<{ org_id: string }>(
    `UPDATE reports SET status = 'errored', status_reason = $2 WHERE id = $1 AND status = 'received' AND batch_id IS NULL RETURNING org_id`,
    [reportId, reason],
  );
  return row ? { orgId: row.org_id } : null;
}

/** The report's org and batch (null before triage), for decisions on held reports. */
export async function getReportPlacement(db: Queryable, reportId: string): Promise<{ orgId: string; batchId: string | null } | null> {
  const [row] = await db.query<{ org_id: string; batch_id: string | null }>('SELECT org_id, batch_id FROM reports WHERE id = $1', [reportId]);
  return row ? { orgId: row.org_id, batchId: row.batch_id } : null;
}

/** Where a report is in the pipeline: its status (with the reason when errored) and its run, if triage made one. */
export interface ReportStatusView {
  id: string;
  orgId: string;
  appId: string;
  source: string;
  status: string;
  statusReason: string | null;
  createdAt: Date;
  run: { id: string; state: string } | null;
}

export async function getReportStatus(db: Queryable, reportId: string): Promise<ReportStatusView | null> {
  const [row] = await db.query<{
    id: string;
    org_id: string;
    app_id: string;
    source: string;
    status: string;
    status_reason: string | null;
    created_at: Date;
    run_id: string | null;
    run_state: string | null;
  }>(
    `SELECT r.id, r.org_id, r.app_id, r.source, r.status, r.status_reason, r.created_at, ru.id AS run_id, ru.state AS run_state
       FROM reports r LEFT JOIN runs ru ON ru.batch_id = r.batch_id
      WHERE r.id = $1`,
    [reportId],
  );
  if (!row) return null;
  return {
    id: row.id,
    orgId: row.org_id,
    appId: row.app_id,
    source: row.source,
    status: row.status,
    statusReason: row.status_reason,
    createdAt: new Date(row.created_at),
    run: row.run_id ? { id: row.run_id, state: row.run_state! } : null,
  };
}

/** The state (and review state) of the run serving the report's batch, if triage made one. */
export async function getRunStateOfReport(db: Queryable, reportId: string): Promise<{ state: string; reviewState: string | null } | null> {
  const [row] = await db.query<{ state: string; review_state: string | null }>(
    'SELECT ru.state, ru.review_state FROM reports r JOIN runs ru ON ru.batch_id = r.batch_id WHERE r.id = $1',
    [reportId],
  );
  return row ? { state: row.state, reviewState: row.review_state } : null;
}
