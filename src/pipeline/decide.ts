import { UserzError } from '../errors.js';
import { enqueueJob, getReportPlacement, recordAudit, setRunReviewNote, type Db } from '../store/index.js';
import { requirePermission, type Principal } from '../tenant/index.js';
import { getRunForBatch, transitionRun } from './runs.js';

/**
 * A maintainer's decision on a held report, the one implementation behind
 * POST /api/v1/reports/:id/approve|reject and the console's review queue:
 * - approve: the report's run goes needs_review → triaged and is queued;
 * - reject: the run goes needs_review → rejected, the maintainer's reason (if any) is kept
 *   on the run (runs.review_note, never sent to the reporter), and the reporter is told.
 * Only within the principal's org (another org's report is `report_not_found`), only with
 * the `decide` permission, and audited as the principal.
 */
export type HeldReportDecision = { action: 'approve' } | { action: 'reject'; reason: string | null };

export async function decideHeldReport(
  deps: { db: Db },
  principal: Principal,
  reportId: string,
  decision: HeldReportDecision,
): Promise<{ runId: string; state: string }> {
  const report = await getReportPlacement(deps.db, reportId);
  if (!report || report.orgId !== principal.orgId) throw new UserzError('report_not_found', 'No such report');
  requirePermission(principal, 'decide');
  const run = report.batchId ? await getRunForBatch(deps.db, report.batchId) : null;
  if (!run || run.orgId !== principal.orgId || run.state !== 'needs_review') throw notHeld();
  const moved = await deps.db.transaction(async (tx) => {
    if (decision.action === 'approve') {
      const m = await transitionRun(tx, run.id, 'needs_review', 'triaged', { reason: 'approved' });
      if (m) await enqueueJob(tx, 'run', `run:${run.id}`, { runId: run.id }, { maxAttempts: 4 });
      return m;
    }
    const m = await transitionRun(tx, run.id, 'needs_review', 'rejected', { reason: 'maintainer_rejected' });
    if (m) {
      // The maintainer's words stay with the run; the reporter gets the fixed refusal text (notify.ts).
      if (decision.reason !== null) await setRunReviewNote(tx, run.id, decision.reason);
      await enqueueJob(tx, 'notify', `notify:${run.id}`, { runId: run.id });
    }
    return m;
  });
  if (!moved) throw notHeld();
  await recordAudit(deps.db, {
    actor: principal.actor,
    action: 'report.review',
    orgId: principal.orgId,
    subject: reportId,
    data: { decision: decision.action, runId: run.id },
  });
  return { runId: run.id, state: moved.state };
}

/** A reject reason as a maintainer typed it: at most 500 characters, trimmed, null when empty. */
export function rejectReasonText(reason: unknown): string | null {
  if (reason === undefined || reason === null) return null;
  if (typeof reason !== 'string' || reason.length > 500) {
    throw new UserzError('invalid_request', 'reason must be a string of at most 500 characters');
  }
  return reason.trim() || null;
}

const notHeld = () => new UserzError('report_not_held', 'The report is not waiting for review');
