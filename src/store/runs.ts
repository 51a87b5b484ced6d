import { insertBlobRows } from './blob-lifecycle.js';
import type { Queryable } from './db/interface.js';

/**
 * The SQL on runs. The state machine (which transitions exist, when a state is terminal,
 * which audit event a change writes) is pipeline/runs.ts and states.ts: the writers of
 * runs.state here are called only from there, with a transition it has checked.
 */

/** Run states (DESIGN.md); pipeline/states.ts re-exports the type with the transitions between them. */
export const RUN_STATES = ['queued', 'triaged', 'running', 'checking', 'pr_opened', 'pr_failed', 'rejected', 'needs_review', 'errored'] as const;
export type RunState = (typeof RUN_STATES)[number];

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

/** A new run row (no audit event: the caller writes it). */
export async function insertRunRow(
  tx: Queryable,
  row: { id: string; orgId: string; appId: string; batchId: string; repoId: string | null; state: RunState; reason: string | null },
): Promise<Run> {
  const [inserted] = await tx.query<RunRow>(
    `INSERT INTO runs (id, org_id, app_id, batch_id, repo_id, state, state_reason) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
    [row.id, row.orgId, row.appId, row.batchId, row.repoId, row.state, row.reason],
  );
  return toRun(inserted!);
}

/**
 * A run row created already out of `queued`, with its two audit events (run.queued, then
 * run.<state>, each with the data the caller gives) in order, in one statement. The caller
 * checks the transition and says whether the state is terminal (finished_at is set).
 */
export async function insertRunRowMovedFromQueued(
  tx: Queryable,
  row: { id: string; orgId: string; appId: string; batchId: string; repoId: string | null; state: RunState; reason: string; terminal: boolean },
  audit: { queued: Record<string, unknown>; moved: Record<string, unknown> },
): Promise<void> {
  await tx.query(
    `WITH run AS (
       INSERT INTO runs (id, org_id, app_id, batch_id, repo_id, state, state_reason, finished_at)
       VALUES ($1, $2, $3, $4, $5, $6::text, $7, CASE WHEN $8::boolean THEN now() END) RETURNING id)
     INSERT INTO audit_events (actor, action, org_id, subject, data)
     SELECT 'pipeline', a.action, $2, run.id, a.data
       FROM run, (VALUES (1, 'run.queued', $9::jsonb), (2, 'run.' || $6::text, $10::jsonb)) AS a (n, action, data)
      ORDER BY a.n`,
    [row.id, row.orgId, row.appId, row.batchId, row.repoId, row.state, row.reason, row.terminal, JSON.stringify(audit.queued), JSON.stringify(audit.moved)],
  );
}

export async function findRun(db: Queryable, id: string): Promise<Run | null> {
  const [row] = await db.query<RunRow>('SELECT * FROM runs WHERE id = $1', [id]);
  return row ? toRun(row) : null;
}

export async function findRunForBatch(db: Queryable, batchId: string): Promise<Run | null> {
  const [row] = await db.query<RunRow>('SELECT * FROM runs WHERE batch_id = $1', [batchId]);
  return row ? toRun(row) : null;
}

/** What a state change writes besides the state; null (or absent) keeps the column as it is. */
export interface RunStateColumns {
  reason: string | null;
  verdict?: unknown;
  baseCommit?: string;
  branch?: string;
  prUrl?: string;
  prNumber?: number;
  changesetBlob?: string;
  logBlob?: string;
  usage?: unknown;
}

/**
 * Compare-and-set of runs.state from `from` to `to` (started_at is set on the first
 * `running`, finished_at when `terminal`). Null when the run was not in `from`. The caller
 * checks the transition and writes the audit event.
 */
export async function updateRunState(
  tx: Queryable,
  runId: string,
  from: RunState,
  to: RunState,
  terminal: boolean,
  columns: RunStateColumns,
): Promise<Run | null> {
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
      columns.reason,
      columns.verdict === undefined ? null : JSON.stringify(columns.verdict),
      columns.baseCommit ?? null,
      columns.branch ?? null,
      columns.prUrl ?? null,
      columns.prNumber ?? null,
      columns.changesetBlob ?? null,
      columns.logBlob ?? null,
      columns.usage === undefined ? null : JSON.stringify(columns.usage),
      terminal,
    ],
  );
  if (!row) return null;
  // The run's blobs get their owner rows in the transaction that names them on the run (issue 15).
  const blobs = [
    ...(columns.logBlob ? [{ key: columns.logBlob, kind: 'run_log' as const }] : []),
    ...(columns.changesetBlob ? [{ key: columns.changesetBlob, kind: 'changeset' as const }] : []),
  ];
  await insertBlobRows(
    tx,
    blobs.map((b) => ({ ...b, orgId: row.org_id, appId: row.app_id, runId })),
  );
  return toRun(row);
}

/**
 * Sets review_state on a run in `pr_opened` whose repo is the one named (our repo id, or a
 * GitHub repository id); returns the run's org, or null when no such run matched.
 */
export async function updateRunReviewState(
  tx: Queryable,
  runId: string,
  reviewState: string,
  repo: { repoId: string | null; githubRepositoryId: string | null },
): Promise<string | null> {
  const rows = await tx.query<{ org_id: string }>(
    `UPDATE runs SET review_state = $2, updated_at = now()
      WHERE id = $1 AND state = 'pr_opened'
        AND repo_id IN (SELECT id FROM repos WHERE ($3::text IS NOT NULL AND id = $3) OR ($4::text IS NOT NULL AND forge = 'github' AND external_id = $4))
      RETURNING org_id`,
    [runId, reviewState, repo.repoId, repo.githubRepositoryId],
  );
  return rows.length === 0 ? null : rows[0]!.org_id;
}

/** Ids of the reports of a batch, oldest first. */
export async function reportIdsOfBatch(db: Queryable, batchId: string): Promise<string[]> {
  const rows = await db.query<{ id: string }>('SELECT id FROM reports WHERE batch_id = $1 ORDER BY created_at', [batchId]);
  return rows.map((r) => r.id);
}

/**
 * Takes the App's daily-limit lock for the rest of the transaction and counts the runs of
 * the App that started in the last 24 hours, with the oldest start among them. Callers
 * count and start under the one lock, so two workers cannot both take the last slot.
 */
export async function lockDailyRunWindow(tx: Queryable, appId: string): Promise<{ started: number; oldestStart: Date | null }> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`userz:daily:${appId}`]);
  const [window] = await tx.query<{ n: number; oldest: Date | null }>(
    `SELECT count(*)::int AS n, min(started_at) AS oldest FROM runs WHERE app_id = $1 AND started_at > now() - interval '24 hours'`,
    [appId],
  );
  return { started: Number(window!.n), oldestStart: window!.oldest === null ? null : new Date(window!.oldest) };
}

/** Notes why a run waits without changing its state (e.g. `daily_limit_reached`). */
export async function setRunStateReason(db: Queryable, runId: string, reason: string | null): Promise<void> {
  await db.query('UPDATE runs SET state_reason = $2, updated_at = now() WHERE id = $1', [runId, reason]);
}

/** Keeps an attempt's transcript and usage on the run while it stays where it is (a retried model failure). */
export async function saveRunAttempt(db: Queryable, runId: string, logBlob: string, usage: unknown): Promise<void> {
  // One statement, so the transcript's owner row is written with the run's reference to it.
  await db.query(
    `WITH run AS (UPDATE runs SET log_blob = $2, usage = $3 WHERE id = $1 RETURNING id, org_id, app_id)
     INSERT INTO blobs (key, org_id, app_id, kind, run_id, created_at)
     SELECT $2, org_id, app_id, 'run_log', id, now() FROM run
     ON CONFLICT (key) DO UPDATE SET created_at = EXCLUDED.created_at, expired_at = NULL`,
    [runId, logBlob, JSON.stringify(usage)],
  );
}

/** What GET /api/v1/runs/:id shows: state, reason, guardrail verdict and PR link. */
/** Keeps the maintainer's words for a decision on a held run (the reject reason); null leaves none. */
export async function setRunReviewNote(db: Queryable, runId: string, note: string | null): Promise<void> {
  await db.query('UPDATE runs SET review_note = $2 WHERE id = $1', [runId, note]);
}
