import { UserzError } from '../errors.js';
import { newId, recordAudit, type Queryable } from '../store/index.js';
import { TERMINAL_STATES, TRANSITIONS, type RunState } from './states.js';

export interface Run {
  id: string;
  orgId: string;
  appId: string;
  batchId: string;
  repoId: string | null;
  state: RunState;
  stateReason: string | null;
  verdict: unknown;
  baseCommit: string | null;
  branch: string | null;
  prUrl: string | null;
  prNumber: number | null;
  reviewState: string | null;
  changesetBlob: string | null;
  logBlob: string | null;
  startedAt: Date | null;
}

type RunRow = {
  id: string;
  org_id: string;
  app_id: string;
  batch_id: string;
  repo_id: string | null;
  state: RunState;
  state_reason: string | null;
  verdict: unknown;
  base_commit: string | null;
  branch: string | null;
  pr_url: string | null;
  pr_number: number | null;
  review_state: string | null;
  changeset_blob: string | null;
  log_blob: string | null;
  started_at: Date | null;
};

const toRun = (r: RunRow): Run => ({
  id: r.id,
  orgId: r.org_id,
  appId: r.app_id,
  batchId: r.batch_id,
  repoId: r.repo_id,
  state: r.state,
  stateReason: r.state_reason,
  verdict: r.verdict,
  baseCommit: r.base_commit,
  branch: r.branch,
  prUrl: r.pr_url,
  prNumber: r.pr_number,
  reviewState: r.review_state,
  changesetBlob: r.changeset_blob,
  logBlob: r.log_blob,
  startedAt: r.started_at,
});

export async function insertRun(
  tx: Queryable,
  input: { orgId: string; appId: string; batchId: string; repoId: string | null; state: RunState; reason?: string },
): Promise<Run> {
  const id = newId('run');
  const [row] = await tx.query<RunRow>(
    `INSERT INTO runs (id, org_id, app_id, batch_id, repo_id, state, state_reason) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
    [id, input.orgId, input.appId, input.batchId, input.repoId, input.state, input.reason ?? null],
  );
  await recordAudit(tx, {
    actor: 'pipeline',
    action: `run.${input.state}`,
    orgId: input.orgId,
    subject: id,
    data: { from: null, reason: input.reason ?? null, batchId: input.batchId },
  });
  return toRun(row!);
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
  await tx.query(
    `WITH run AS (
       INSERT INTO runs (id, org_id, app_id, batch_id, repo_id, state, state_reason, finished_at)
       VALUES ($1, $2, $3, $4, $5, $6::text, $7, CASE WHEN $8::boolean THEN now() END) RETURNING id)
     INSERT INTO audit_events (actor, action, org_id, subject, data)
     SELECT 'pipeline', a.action, $2, run.id, a.data
       FROM run, (VALUES (1, 'run.queued', $9::jsonb), (2, 'run.' || $6::text, $10::jsonb)) AS a (n, action, data)
      ORDER BY a.n`,
    [
      id,
      input.orgId,
      input.appId,
      input.batchId,
      input.repoId,
      to,
      reason,
      TERMINAL_STATES.has(to),
      JSON.stringify({ from: null, reason: null, batchId: input.batchId }),
      JSON.stringify({ from: 'queued', reason }),
    ],
  );
  return id;
}

export async function getRun(db: Queryable, id: string): Promise<Run | null> {
  const [row] = await db.query<RunRow>('SELECT * FROM runs WHERE id = $1', [id]);
  return row ? toRun(row) : null;
}

export async function getRunForBatch(db: Queryable, batchId: string): Promise<Run | null> {
  const [row] = await db.query<RunRow>('SELECT * FROM runs WHERE batch_id = $1', [batchId]);
  return row ? toRun(row) : null;
}

export interface TransitionFields {
  reason?: string | null;
  verdict?: unknown;
  baseCommit?: string;
  branch?: string;
  prUrl?: string;
  prNumber?: number;
  changesetBlob?: string;
  logBlob?: string;
  usage?: unknown;
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
  const [row] = await tx.query<RunRow>(
    `UPDATE runs SET state = $3, state_reason = $4, updated_at = now(),
            verdict = COALESCE($5, verdict), base_commit = COALESCE($6, base_commit), branch = COALESCE($7, branch),
            pr_url = COALESCE($8, pr_url), pr_number = COALESCE($9, pr_number), changeset_blob = COALESCE($10, changeset_blob),
            log_blob = COALESCE($11, log_blob), usage = COALESCE($12, usage),
            started_at = CASE WHEN $3 = 'running' THEN COALESCE(started_at, now()) ELSE started_at END,
            finished_at = CASE WHEN $13 THEN now() ELSE finished_at END
      WHERE id = $1 AND state = $2 RETURNING *`,
    [
      runId,
      from,
      to,
      fields.reason ?? null,
      fields.verdict === undefined ? null : JSON.stringify(fields.verdict),
      fields.baseCommit ?? null,
      fields.branch ?? null,
      fields.prUrl ?? null,
      fields.prNumber ?? null,
      fields.changesetBlob ?? null,
      fields.logBlob ?? null,
      fields.usage === undefined ? null : JSON.stringify(fields.usage),
      TERMINAL_STATES.has(to),
    ],
  );
  if (!row) return null;
  await recordAudit(tx, {
    actor: 'pipeline',
    action: `run.${to}`,
    orgId: row.org_id,
    subject: runId,
    data: { from, reason: fields.reason ?? null, ...(fields.prUrl ? { prUrl: fields.prUrl } : {}), ...fields.audit },
  });
  return toRun(row);
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
  const rows = await tx.query<{ org_id: string }>(
    `UPDATE runs SET review_state = $2, updated_at = now()
      WHERE id = $1 AND state = 'pr_opened'
        AND repo_id IN (SELECT id FROM repos WHERE ($3::text IS NOT NULL AND id = $3) OR ($4::text IS NOT NULL AND forge = 'github' AND external_id = $4))
      RETURNING org_id`,
    [runId, reviewState, repoId, githubId],
  );
  if (rows.length === 0) return false;
  await recordAudit(tx, { actor, action: `run.review.${reviewState}`, orgId: rows[0]!.org_id, subject: runId });
  return true;
}

/** Ids of the reports a run serves (its batch). */
export async function reportIdsOfRun(db: Queryable, run: Pick<Run, 'batchId'>): Promise<string[]> {
  const rows = await db.query<{ id: string }>('SELECT id FROM reports WHERE batch_id = $1 ORDER BY created_at', [run.batchId]);
  return rows.map((r) => r.id);
}
