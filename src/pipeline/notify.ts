import type { ReportOutcome, ReviewOutcome } from '../store/index.js';
import type { PipelineDeps } from './deps.js';
import { getRun, reportIdsOfRun, type Run } from './runs.js';

/**
 * Notify job: tells every reporter of the run's batch how it ended. The notifier keeps
 * the first outcome per report and sends once, so a retried job does not repeat a
 * message that went out.
 */
export async function notifyRun(deps: PipelineDeps, runId: string, review?: unknown): Promise<void> {
  const run = await getRun(deps.db, runId);
  if (!run) return;
  if (review === 'merged' || review === 'closed') return notifyReview(deps, run, review);
  const outcome = outcomeOf(run);
  if (!outcome) return;
  for (const reportId of await reportIdsOfRun(deps.db, run)) {
    await deps.notifier.notifyReporter({ id: reportId }, outcome);
  }
}

/** The draft was merged or closed: every reporter of the batch hears it where they reported. */
async function notifyReview(deps: PipelineDeps, run: Run, outcome: ReviewOutcome): Promise<void> {
  const notify = deps.notifier.notifyReviewOutcome?.bind(deps.notifier);
  if (!notify) return;
  for (const reportId of await reportIdsOfRun(deps.db, run)) await notify({ id: reportId }, outcome, run.id);
}

/** What a reporter may be told: the link, or a plain reason. Never internal details. */
export function outcomeOf(run: Pick<Run, 'state' | 'stateReason' | 'prUrl'>): ReportOutcome | null {
  switch (run.state) {
    case 'pr_opened':
      return run.prUrl ? { kind: 'pr_opened', url: run.prUrl } : null;
    case 'pr_failed':
      return { kind: 'refused', reason: 'The proposed change touched files Userz may not change.' };
    case 'rejected':
      return { kind: 'refused', reason: REJECT_REASONS[run.stateReason ?? ''] ?? 'The report was not accepted for an automatic fix.' };
    case 'errored':
      return { kind: 'failed' };
    default:
      return null;
  }
}

const REJECT_REASONS: Record<string, string> = {
  spam: 'The report looked like spam.',
  abuse: 'The report was not accepted.',
  off_topic: 'The report did not describe a problem with this product.',
  malicious_injection: 'The report was not accepted for an automatic fix.',
};
