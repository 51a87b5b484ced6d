import type { Queryable } from '../../store/index.js';
import type { Report } from '../../store/index.js';
import { getRunStateOfReport } from '../../store/index.js';

/**
 * Where a report is, in the reporter's words: received, being fixed, fix proposed, fixed, or
 * not planned. It says nothing about the repository, the run or the pull request (no ids,
 * names or links): the widget's status endpoint is public to whoever holds the status token.
 */
export type ReporterPhase = 'received' | 'being_fixed' | 'fix_proposed' | 'fixed' | 'not_planned';

const WORKING_STATES = new Set(['queued', 'triaged', 'running', 'checking']);
const ENDED_WITHOUT_FIX = new Set(['pr_failed', 'rejected']);

export function reporterPhase(report: Pick<Report, 'status' | 'outcome'>, run: { state: string; reviewState: string | null } | null): ReporterPhase {
  if (run?.state === 'pr_opened') {
    if (run.reviewState === 'merged') return 'fixed';
    return run.reviewState === 'closed' ? 'not_planned' : 'fix_proposed';
  }
  if (report.outcome?.kind === 'pr_opened') return 'fix_proposed';
  if (report.outcome?.kind === 'refused' || report.status === 'rejected') return 'not_planned';
  if (run && ENDED_WITHOUT_FIX.has(run.state)) return 'not_planned';
  if (run && WORKING_STATES.has(run.state)) return 'being_fixed';
  // received, triaged without a run, held for a maintainer, or errored: still with us.
  return 'received';
}

/** The run serving the report's batch, if triage made one. */
export async function runOfReport(db: Queryable, reportId: string): Promise<{ state: string; reviewState: string | null } | null> {
  return getRunStateOfReport(db, reportId);
}
