import { UserzError } from '../errors.js';
import {
  findRun,
  findRunForBatch,
  insertRunRow,
  insertRunRowMovedFromQueued,
  newId,
  recordAudit,
  reportIdsOfBatch,
  updateRunReviewState,
  updateRunState,
  type Queryable,
  type Run,
  type RunStateColumns,
} from '../store/index.js';
import { emitRunStateEvents, emitWebhookEvents } from '../webhooks/index.js';
import { TERMINAL_STATES, TRANSITIONS, type RunState } from './states.js';

export type { Run } from '../store/index.js';

export async function insertRun(
  tx: Queryable,
  input: { orgId: string; appId: string; batchId: string; repoId: string | null; state: RunState; reason?: string },
): Promise<Run> {
  const id = newId('run');
  const run = await insertRunRow(tx, {
    id,
    orgId: input.orgId,
    appId: input.appId,
    batchId: input.batchId,
    repoId: input.repoId,
    state: input.state,
    reason: input.reason ?? null,
  });
  await recordAudit(tx, {
    actor: 'pipeline',
    action: `run.${input.state}`,
    orgId: input.orgId,
    subject: id,
    data: { from: null, reason: input.reason ?? null, batchId: input.batchId },
  });
  return run;
}

/**
 * A run created and moved out of `queued` at once, as insertRun then transitionRun would
 * leave it (same row, same two audit events in the same order), in one statement: triage
 * creates one per batch and each round trip counts there.
 */
export async function insertTriagedRun(
  tx: Queryable,
  input: { orgId: string; appId: string; batchId: string; repoId: string | null },
  to: 'triaged' | 'needs_review' | 'rejected',
  reason: string,
): Promise<string> {
  if (!TRANSITIONS.queued.includes(to)) throw new UserzError('bad_transition', `A run cannot go from queued to ${to}`);
  const id = newId('run');
  await insertRunRowMovedFromQueued(
    tx,
    { id, orgId: input.orgId, appId: input.appId, batchId: input.batchId, repoId: input.repoId, state: to, reason, terminal: TERMINAL_STATES.has(to) },
    { queued: { from: null, reason: null, batchId: input.batchId }, moved: { from: 'queued', reason } },
  );
  await emitRunStateEvents(tx, { id, ...input, prUrl: null, prNumber: null }, to, reason);
  return id;
}

export function getRun(db: Queryable, id: string): Promise<Run | null> {
  return findRun(db, id);
}

export function getRunForBatch(db: Queryable, batchId: string): Promise<Run | null> {
  return findRunForBatch(db, batchId);
}

/** The columns a transition may set (as the store names them), plus facts for its audit event. */
export interface TransitionFields extends Partial<RunStateColumns> {
  /** Extra facts for the audit event (ids and paths only, never secrets or report text). */
  audit?: Record<string, string | number | boolean | null | string[]>;
}

/**
 * The only writer of runs.state. Moves a run from `from` to `to` when that transition is
 * allowed, atomically (compare-and-set on the current state), and records an audit event.
 * Returns null when the run was not in `from` (someone else moved it: the caller stops).
 */
export async function transitionRun(tx: Queryable, runId: string, from: RunState, to: RunState, fields: TransitionFields = {}): Promise<Run | null> {
  if (!TRANSITIONS[from].includes(to)) throw new UserzError('bad_transition', `A run cannot go from ${from} to ${to}`);
  const { audit, ...columns } = fields;
  const run = await updateRunState(tx, runId, from, to, TERMINAL_STATES.has(to), { ...columns, reason: fields.reason ?? null });
  if (!run) return null;
  await recordAudit(tx, {
    actor: 'pipeline',
    action: `run.${to}`,
    orgId: run.orgId,
    subject: runId,
    data: { from, reason: fields.reason ?? null, ...(fields.prUrl ? { prUrl: fields.prUrl } : {}), ...audit },
  });
  await emitRunStateEvents(tx, run, to, fields.reason ?? null);
  return run;
}

/**
 * Where a review event came from: the repo whose webhook secret verified it (GitLab), or
 * the GitHub repository id the signed payload names. A branch called `userz/<run-id>` in
 * any other repository (another org's, another GitLab instance's) says nothing about the run.
 */
export type ReviewSource = { repoId: string } | { githubRepositoryId: number };

/** Records what happened to the draft after it was opened (merged, closed, reopened), if the event is from the run's own repo. */
export async function recordReviewState(tx: Queryable, runId: string, reviewState: string, actor: string, source: ReviewSource): Promise<boolean> {
  const [repoId, githubId] = 'repoId' in source ? [source.repoId, null] : [null, String(source.githubRepositoryId)];
  const orgId = await updateRunReviewState(tx, runId, reviewState, { repoId, githubRepositoryId: githubId });
  if (orgId === null) return false;
  await recordAudit(tx, { actor, action: `run.review.${reviewState}`, orgId, subject: runId });
  if (reviewState === 'merged') await emitWebhookEvents(tx, [{ orgId, type: 'pr.merged', data: { runId } }]);
  return true;
}

/** Ids of the reports a run serves (its batch). */
export function reportIdsOfRun(db: Queryable, run: Pick<Run, 'batchId'>): Promise<string[]> {
  return reportIdsOfBatch(db, run.batchId);
}
