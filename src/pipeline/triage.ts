import { UserzError } from '../errors.js';
import { getReport, markReportErrored, recordAudit } from '../store/index.js';
import type { PipelineDeps } from './deps.js';
import { applyTriage, assessReport, logTriaged } from './triage-group.js';

/**
 * Triage job: prefilter, classifier (its own model call, fails closed), policy, then the
 * writes (pipeline/triage-group.ts applyTriage): a report that may run joins an open batch
 * of the same App describing the same problem, or starts one whose run is scheduled
 * `batchDelayMs` later so similar reports can join it; reports held for review or rejected
 * get a batch and run of their own in that state. Idempotent: a report that already has a
 * batch is left alone. With `jobId`, that triage job is marked done in the same
 * transaction, so it is done exactly when its report is. The worker triages through
 * TriageGroups, which writes many reports per transaction with the same applyTriage.
 */
export async function triageReport(deps: PipelineDeps, reportId: string, opts: { jobId?: number } = {}): Promise<void> {
  const report = await getReport(deps.db, reportId);
  if (!report) throw new UserzError('report_not_found', `No report ${reportId}`);
  const assessment = await assessReport(deps, report);
  await deps.db.transaction((tx) => applyTriage(deps, tx, [{ assessment, jobId: opts.jobId }]));
  logTriaged(deps, assessment);
}

/**
 * A triage job that failed for good: the report moves from `received` to `errored` with
 * the reason (visible in GET /api/v1/reports/:id), instead of waiting forever behind a job
 * marked done. A report that was triaged meanwhile keeps its state.
 */
export async function recordTriageFailure(deps: Pick<PipelineDeps, 'db'>, reportId: string, reason: string): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const moved = await markReportErrored(tx, reportId, reason.slice(0, 200));
    if (moved)
      await recordAudit(tx, { actor: 'pipeline', action: 'report.errored', orgId: moved.orgId, subject: reportId, data: { reason: reason.slice(0, 200) } });
  });
}
