import type { Queryable } from './db/interface.js';

/**
 * Triage's writes for many reports at once (pipeline/triage-group.ts); the batch table's
 * grouped writes are in batches.ts. Each function is
 * one statement whatever the number of rows: the rows travel as one JSON array read with
 * jsonb_to_recordset (the same SQL on Postgres and PGlite). At 500 reports/s a statement
 * per report and per table was the cost that capped triage, not the work in each.
 */

export interface TriagedRow {
  reportId: string;
  /** The triage job closed in the same statement (null: no job, e.g. a test or the CLI). */
  jobId: number | null;
  signals: unknown;
  classification: unknown;
  decision: unknown;
  status: 'triaged' | 'rejected' | 'needs_review';
  /** The report.triaged audit event's data. */
  audit: Record<string, unknown>;
}

/**
 * Stores each report's triage result (only on reports that have no batch yet: one that has
 * was triaged by an earlier attempt), writes its report.triaged audit event and closes every
 * given job, in one statement. Returns the reports it updated, with their App's repo.
 */
export async function markReportsTriaged(tx: Queryable, rows: readonly TriagedRow[]): Promise<Array<{ id: string; repoId: string | null }>> {
  if (rows.length === 0) return [];
  const input = rows.map((r, n) => ({
    n,
    id: r.reportId,
    signals: JSON.stringify(r.signals),
    classification: JSON.stringify(r.classification),
    decision: JSON.stringify(r.decision),
    status: r.status,
    audit: r.audit,
  }));
  const jobIds = rows.flatMap((r) => (r.jobId === null ? [] : [r.jobId]));
  const out = await tx.query<{ id: string; repo_id: string | null }>(
    `WITH input AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS t(n int, id text, signals text, classification text, decision text, status text, audit jsonb)),
     done AS (UPDATE jobs SET done_at = now(), locked_until = NULL, last_error = NULL WHERE id = ANY($2::bigint[])),
     triaged AS (
       UPDATE reports r SET signals = i.signals::jsonb, classification = i.classification::jsonb, decision = i.decision::jsonb, status = i.status
         FROM input i WHERE r.id = i.id AND r.batch_id IS NULL
       RETURNING r.id, r.org_id, r.app_id, i.audit, i.n),
     audit AS (
       INSERT INTO audit_events (actor, action, org_id, subject, data)
       SELECT 'pipeline', 'report.triaged', org_id, id, audit FROM triaged ORDER BY n)
     SELECT t.id, a.repo_id FROM triaged t LEFT JOIN apps a ON a.id = t.app_id`,
    [JSON.stringify(input), jobIds],
  );
  return out.map((r) => ({ id: r.id, repoId: r.repo_id }));
}

export interface TriagedRunRow {
  id: string;
  orgId: string;
  appId: string;
  batchId: string;
  repoId: string | null;
  state: 'triaged' | 'needs_review' | 'rejected';
  reason: string;
  /** finished_at is set (a terminal state). */
  terminal: boolean;
}

/**
 * Runs created already moved out of `queued`, each with the two audit events insertRun then
 * transitionRun would write (run.queued, then run.<state>), in order, in one statement.
 * The caller checks the transition (pipeline/states.ts).
 */
export async function insertTriagedRuns(tx: Queryable, runs: readonly TriagedRunRow[]): Promise<void> {
  if (runs.length === 0) return;
  const rows = runs.map((r, n) => ({
    n,
    id: r.id,
    org_id: r.orgId,
    app_id: r.appId,
    batch_id: r.batchId,
    repo_id: r.repoId,
    state: r.state,
    reason: r.reason,
    terminal: r.terminal,
  }));
  await tx.query(
    `WITH input AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS t(n int, id text, org_id text, app_id text, batch_id text, repo_id text, state text, reason text, terminal boolean)),
     run AS (
       INSERT INTO runs (id, org_id, app_id, batch_id, repo_id, state, state_reason, finished_at)
       SELECT id, org_id, app_id, batch_id, repo_id, state, reason, CASE WHEN terminal THEN now() END FROM input ORDER BY n
       RETURNING id)
     INSERT INTO audit_events (actor, action, org_id, subject, data)
     SELECT 'pipeline', a.action, i.org_id, i.id, a.data
       FROM input i JOIN run ON run.id = i.id
       CROSS JOIN LATERAL (VALUES (1, 'run.queued', jsonb_build_object('from', NULL, 'reason', NULL, 'batchId', i.batch_id)),
                                  (2, 'run.' || i.state, jsonb_build_object('from', 'queued', 'reason', i.reason))) AS a (k, action, data)
      ORDER BY i.n, a.k`,
    [JSON.stringify(rows)],
  );
}

export interface NewJobRow {
  kind: string;
  key: string;
  payload: Record<string, unknown>;
  runAt: Date;
  maxAttempts: number;
}

/** enqueueJob (store/jobs.ts) for many jobs in one statement: a key that exists is left alone. */
export async function enqueueJobRows(tx: Queryable, jobs: readonly NewJobRow[]): Promise<void> {
  if (jobs.length === 0) return;
  const rows = jobs.map((j) => ({ kind: j.kind, key: j.key, payload: j.payload, run_at: j.runAt.toISOString(), max_attempts: j.maxAttempts }));
  await tx.query(
    `INSERT INTO jobs (kind, key, payload, run_at, max_attempts)
     SELECT kind, key, payload, run_at, max_attempts FROM jsonb_to_recordset($1::jsonb) AS t(kind text, key text, payload jsonb, run_at timestamptz, max_attempts int)
     ON CONFLICT (key) DO NOTHING`,
    [JSON.stringify(rows)],
  );
}
