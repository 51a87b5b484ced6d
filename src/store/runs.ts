import type { Queryable } from './db/interface.js';

/**
 * Reads and side writes on runs that are not state changes. The state machine (which
 * transitions exist, the only writer of runs.state) is pipeline/runs.ts and states.ts.
 */

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
export async function setRunStateReason(db: Queryable, runId: string, reason: string): Promise<void> {
  await db.query('UPDATE runs SET state_reason = $2, updated_at = now() WHERE id = $1', [runId, reason]);
}

/** Keeps an attempt's transcript and usage on the run while it stays where it is (a retried model failure). */
export async function saveRunAttempt(db: Queryable, runId: string, logBlob: string, usage: unknown): Promise<void> {
  await db.query('UPDATE runs SET log_blob = $2, usage = $3 WHERE id = $1', [runId, logBlob, JSON.stringify(usage)]);
}

/** What GET /api/v1/runs/:id shows: state, reason, guardrail verdict and PR link. */
export interface RunStatusView {
  id: string;
  orgId: string;
  state: string;
  stateReason: string | null;
  verdict: unknown;
  prUrl: string | null;
  reviewState: string | null;
}

export async function getRunStatus(db: Queryable, runId: string): Promise<RunStatusView | null> {
  const [row] = await db.query<{
    id: string;
    org_id: string;
    state: string;
    state_reason: string | null;
    verdict: unknown;
    pr_url: string | null;
    review_state: string | null;
  }>('SELECT id, org_id, state, state_reason, verdict, pr_url, review_state FROM runs WHERE id = $1', [runId]);
  if (!row) return null;
  return {
    id: row.id,
    orgId: row.org_id,
    state: row.state,
    stateReason: row.state_reason,
    verdict: row.verdict,
    prUrl: row.pr_url,
    reviewState: row.review_state,
  };
}

/** Keeps the maintainer's words for a decision on a held run (the reject reason); null leaves none. */
export async function setRunReviewNote(db: Queryable, runId: string, note: string | null): Promise<void> {
  await db.query('UPDATE runs SET review_note = $2 WHERE id = $1', [runId, note]);
}
