import type { Queryable } from './db/interface.js';
import { newId } from './ids.js';

/**
 * Batches: similar reports of one App that one run serves. Triage decides which batch a
 * report joins and writes the summary (triage/batch.ts); this module only stores them.
 * A batch is open while `open_until` is ahead and its run is still `triaged`.
 */

/** The trusted summary triage computes for a batch (count, top error, sanitised excerpt). */
export interface StoredBatchSummary {
  text: string;
  count: number;
}

export interface NewBatch {
  appId: string;
  /** The fingerprint's key (an error key, or a hash of the words). */
  fingerprint: string | null;
  /** The whole fingerprint, as triage/batch.ts compares it. */
  signature: unknown;
  summary: StoredBatchSummary;
  /** How long the batch accepts similar reports; 0 closes it at once. */
  openForMs: number;
  /** The report that starts the batch. */
  firstReportId: string;
}

/**
 * A new batch with its first report assigned, its summary written with it. One statement
 * (the report's foreign key is checked at its end, after the batch row exists).
 */
export async function insertBatch(tx: Queryable, input: NewBatch): Promise<string> {
  const id = newId('bat');
  await tx.query(
    `WITH batch AS (
       INSERT INTO batches (id, app_id, fingerprint, signature, summary, report_count, open_until)
       VALUES ($1, $2, $3, $4, $5, $6, now() + ($7 || ' milliseconds')::interval) RETURNING id)
     UPDATE reports SET batch_id = (SELECT id FROM batch) WHERE id = $8`,
    [
      id,
      input.appId,
      input.fingerprint,
      JSON.stringify(input.signature),
      input.summary.text,
      input.summary.count,
      String(input.openForMs),
      input.firstReportId,
    ],
  );
  return id;
}

export interface OpenBatchRow<S = unknown> {
  id: string;
  signature: S;
  firstSeenAt: Date;
  lastSeenAt: Date;
}

/**
 * Open batches of the App that a report received at `receivedAt` could join, read without
 * locks: only batches of the same fingerprint kind (and, for errors, the same key) whose
 * first report is inside the window.
 */
export async function findJoinableBatches<S = unknown>(
  tx: Queryable,
  q: { appId: string; kind: string; errorKey: string | null; receivedAt: Date; windowMs: number },
): Promise<OpenBatchRow<S>[]> {
  // A millisecond of slack each side: the caller compares milliseconds, the column holds microseconds.
  const rows = await tx.query<{ id: string; signature: S; first_seen_at: Date; last_seen_at: Date }>(
    `SELECT b.id, b.signature, b.first_seen_at, b.last_seen_at FROM batches b JOIN runs r ON r.batch_id = b.id
      WHERE b.app_id = $1 AND b.open_until > now() AND r.state = 'triaged' AND b.signature IS NOT NULL
        AND b.signature->>'kind' = $2 AND ($3::text IS NULL OR b.fingerprint = $3)
        AND b.first_seen_at < $4::timestamptz + interval '1 millisecond'
        AND b.first_seen_at > $4::timestamptz - ($5 || ' milliseconds')::interval - interval '1 millisecond'`,
    [q.appId, q.kind, q.errorKey, q.receivedAt, String(q.windowMs)],
  );
  return rows.map((b) => ({ id: b.id, signature: b.signature, firstSeenAt: new Date(b.first_seen_at), lastSeenAt: new Date(b.last_seen_at) }));
}

/**
 * Locks a batch whose run has not started (a run closes its batch under the same lock) and
 * returns its stored summary text; null when it is no longer open.
 */
export async function lockOpenBatch(tx: Queryable, batchId: string): Promise<{ summary: string } | null> {
  const [batch] = await tx.query<{ summary: string }>(
    `SELECT b.summary FROM batches b JOIN runs r ON r.batch_id = b.id
      WHERE b.id = $1 AND b.open_until > now() AND r.state = 'triaged'
      FOR UPDATE OF b`,
    [batchId],
  );
  return batch ?? null;
}

/** Makes the report a member of the batch. */
export async function assignReportToBatch(tx: Queryable, reportId: string, batchId: string): Promise<void> {
  await tx.query('UPDATE reports SET batch_id = $2 WHERE id = $1', [reportId, batchId]);
}

/** Stores the batch's summary as triage recomputed it, and when it last grew. */
export async function setBatchSummary(tx: Queryable, batchId: string, summary: StoredBatchSummary): Promise<void> {
  await tx.query('UPDATE batches SET summary = $2, report_count = $3, last_seen_at = now() WHERE id = $1', [batchId, summary.text, summary.count]);
}

/** Closes the batch to new reports (a run started for it); no-op when it is already closed. */
export async function closeBatch(db: Queryable, batchId: string): Promise<void> {
  await db.query('UPDATE batches SET open_until = now() WHERE id = $1 AND open_until > now()', [batchId]);
}

export interface BatchReport {
  id: string;
  /** The stored ingest body (ReportContent); never logged. */
  content: unknown;
  createdAt: Date;
}

/** The batch's reports, first report first. */
export async function listBatchReports(db: Queryable, batchId: string): Promise<BatchReport[]> {
  const rows = await db.query<{ id: string; content: unknown; created_at: Date }>(
    'SELECT id, content, created_at FROM reports WHERE batch_id = $1 ORDER BY created_at',
    [batchId],
  );
  return rows.map((r) => ({ id: r.id, content: r.content, createdAt: new Date(r.created_at) }));
}

/**
 * What the tenancy check reads fresh before a credential is minted: the App's org, the
 * batch's App, and how many of the batch's reports there are and how many belong to
 * another org or App than the run's.
 */
export interface BatchTenancy {
  appOrgId: string | null;
  batchAppId: string | null;
  reports: number;
  foreignReports: number;
}

export async function readBatchTenancy(db: Queryable, q: { orgId: string; appId: string; batchId: string }): Promise<BatchTenancy> {
  const [row] = await db.query<{ app_org: string | null; batch_app: string | null; reports: number; foreign_reports: number }>(
    `SELECT a.org_id AS app_org, b.app_id AS batch_app,
            (SELECT count(*)::int FROM reports WHERE batch_id = $3) AS reports,
            (SELECT count(*)::int FROM reports WHERE batch_id = $3 AND (org_id <> $1 OR app_id <> $2)) AS foreign_reports
       FROM (SELECT 1) AS one
       LEFT JOIN apps a ON a.id = $2
       LEFT JOIN batches b ON b.id = $3`,
    [q.orgId, q.appId, q.batchId],
  );
  return { appOrgId: row!.app_org, batchAppId: row!.batch_app, reports: Number(row!.reports), foreignReports: Number(row!.foreign_reports) };
}
