import type { Queryable } from './db/interface.js';

/**
 * What a reporter is told after their draft opened: that it was merged, or closed without
 * merging. One row per report and outcome (a PR closed, reopened and merged tells both),
 * sent once: a retried notify job finds the row sent and does nothing.
 */
export type ReviewOutcome = 'merged' | 'closed';

/** Records the notice (if new) and says whether it still has to be sent. */
export async function claimReporterNotice(db: Queryable, notice: { reportId: string; runId: string; outcome: ReviewOutcome }): Promise<boolean> {
  await db.query('INSERT INTO reporter_notices (report_id, run_id, outcome) VALUES ($1, $2, $3) ON CONFLICT (report_id, outcome) DO NOTHING', [
    notice.reportId,
    notice.runId,
    notice.outcome,
  ]);
  const rows = await db.query<{ sent_at: Date | null }>('SELECT sent_at FROM reporter_notices WHERE report_id = $1 AND outcome = $2', [
    notice.reportId,
    notice.outcome,
  ]);
  return rows[0]?.sent_at === null;
}

export async function markReporterNoticeSent(db: Queryable, reportId: string, outcome: ReviewOutcome): Promise<void> {
  await db.query('UPDATE reporter_notices SET sent_at = now() WHERE report_id = $1 AND outcome = $2', [reportId, outcome]);
}

/** The latest review outcome recorded for the report (the widget's status), or null. */
export async function reviewOutcomeOfReport(db: Queryable, reportId: string): Promise<ReviewOutcome | null> {
  const rows = await db.query<{ outcome: ReviewOutcome }>(
    'SELECT outcome FROM reporter_notices WHERE report_id = $1 ORDER BY created_at DESC, outcome DESC LIMIT 1',
    [reportId],
  );
  return rows[0]?.outcome ?? null;
}
