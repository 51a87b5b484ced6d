import type { Queryable } from './db/interface.js';

/**
 * Widget retries by Idempotency-Key: one row per (App, key), with the report it made once
 * that report is stored. The policy (key shape, staleness, errors) lives in intake/widget.
 */

/**
 * Claims the key: true when the row is new, or when an unfinished claim is older than
 * `staleSeconds` (its first attempt died) and is taken over; false otherwise.
 */
export async function claimWidgetSubmission(db: Queryable, appId: string, key: string, staleSeconds: number): Promise<boolean> {
  const claimed = await db.query(
    `INSERT INTO widget_submissions (app_id, idempotency_key) VALUES ($1, $2)
     ON CONFLICT (app_id, idempotency_key) DO UPDATE SET created_at = now()
       WHERE widget_submissions.report_id IS NULL AND widget_submissions.created_at < now() - make_interval(secs => $3)
     RETURNING app_id`,
    [appId, key, staleSeconds],
  );
  return claimed.length > 0;
}

/** The report a claimed key made; null while it is still being stored (or when there is no claim). */
export async function getWidgetSubmissionReportId(db: Queryable, appId: string, key: string): Promise<string | null> {
  const [row] = await db.query<{ report_id: string | null }>('SELECT report_id FROM widget_submissions WHERE app_id = $1 AND idempotency_key = $2', [
    appId,
    key,
  ]);
  return row?.report_id ?? null;
}

export async function setWidgetSubmissionReport(db: Queryable, appId: string, key: string, reportId: string): Promise<void> {
  await db.query('UPDATE widget_submissions SET report_id = $3 WHERE app_id = $1 AND idempotency_key = $2', [appId, key, reportId]);
}

/** Drops a claim that made no report, so the next retry may claim the key again. */
export async function deleteUnfinishedWidgetSubmission(db: Queryable, appId: string, key: string): Promise<void> {
  await db.query('DELETE FROM widget_submissions WHERE app_id = $1 AND idempotency_key = $2 AND report_id IS NULL', [appId, key]);
}
