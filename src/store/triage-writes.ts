import type { Queryable } from './db/interface.js';

/**
 * Triage's writes for many reports at once (pipeline/triage-group.ts). Each function is
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

export interface NewBatchRow {
  id: string;
  orgId: string;
  appId: string;
  fingerprintKey: string;
  signature: unknown;
  summary: string;
  reportCount: number;
  /** open_until is now() plus this. */
  openForMs: number;
  /** Received times of its earliest and latest member (not the time triage ran). */
  firstSeenAt: Date;
  lastSeenAt: Date;
  /** Its members, the first one first: each after it gets a batch.join audit event, as when it joins a stored batch. */
  reportIds: readonly string[];
}

/** New batches with their members assigned and joins audited, in one statement (the reports' foreign key is checked at its end). */
export async function insertBatchesWithReports(tx: Queryable, batches: readonly NewBatchRow[]): Promise<void> {
  if (batches.length === 0) return;
  const rows = batches.map((b) => ({
    id: b.id,
    app_id: b.appId,
    fingerprint: b.fingerprintKey,
    signature: b.signature,
    summary: b.summary,
    report_count: b.reportCount,
    open_ms: b.openForMs,
    first_seen_at: b.firstSeenAt.toISOString(),
    last_seen_at: b.lastSeenAt.toISOString(),
  }));
  let n = 0;
  const members = batches.flatMap((b) => b.reportIds.map((reportId, i) => ({ n: n++, report_id: reportId, batch_id: b.id, org_id: b.orgId, joined: i > 0 })));
  await tx.query(
    `WITH batch AS (
       INSERT INTO batches (id, app_id, fingerprint, signature, summary, report_count, open_until, first_seen_at, last_seen_at)
       SELECT id, app_id, fingerprint, signature, summary, report_count, now() + (open_ms || ' milliseconds')::interval, first_seen_at, last_seen_at
         FROM jsonb_to_recordset($1::jsonb) AS t(id text, app_id text, fingerprint text, signature jsonb, summary text, report_count int, open_ms bigint,
                                                first_seen_at timestamptz, last_seen_at timestamptz)
       RETURNING id),
     m AS (SELECT * FROM jsonb_to_recordset($2::jsonb) AS t(n int, report_id text, batch_id text, org_id text, joined boolean)),
     assigned AS (UPDATE reports r SET batch_id = m.batch_id FROM m WHERE r.id = m.report_id)
     INSERT INTO audit_events (actor, action, org_id, subject, data)
     SELECT 'pipeline', 'batch.join', org_id, batch_id, jsonb_build_object('reportId', report_id) FROM m WHERE joined ORDER BY n`,
    [JSON.stringify(rows), JSON.stringify(members)],
  );
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

export interface BatchCandidateQuery {
  appId: string;
  kind: string;
  /** Only batches with this fingerprint (error fingerprints match by key); null for any. */
  key: string | null;
  /** Bounds on the candidate's first_seen_at. */
  firstSeenAfter: Date;
  firstSeenBefore: Date;
}

export interface StoredOpenBatch {
  id: string;
  appId: string;
  signature: unknown;
  firstSeenAt: Date;
  lastSeenAt: Date;
}

/**
 * Open batches a benign report may join (its run not started), for many queries at once,
 * read without locks: the caller locks only the ones it chooses (lockOpenBatches).
 */
export async function findOpenBatches(tx: Queryable, queries: readonly BatchCandidateQuery[]): Promise<StoredOpenBatch[]> {
  if (queries.length === 0) return [];
  const q = queries.map((x) => ({ app_id: x.appId, kind: x.kind, key: x.key, lo: x.firstSeenAfter.toISOString(), hi: x.firstSeenBefore.toISOString() }));
  const rows = await tx.query<{ id: string; app_id: string; signature: unknown; first_seen_at: Date; last_seen_at: Date }>(
    `SELECT DISTINCT b.id, b.app_id, b.signature, b.first_seen_at, b.last_seen_at
       FROM jsonb_to_recordset($1::jsonb) AS q(app_id text, kind text, key text, lo timestamptz, hi timestamptz)
       JOIN batches b ON b.app_id = q.app_id AND b.signature->>'kind' = q.kind AND (q.key IS NULL OR b.fingerprint = q.key)
                     AND b.first_seen_at > q.lo AND b.first_seen_at < q.hi
       JOIN runs r ON r.batch_id = b.id
      WHERE b.open_until > now() AND r.state = 'triaged' AND b.signature IS NOT NULL`,
    [JSON.stringify(q)],
  );
  return rows.map((r) => ({ id: r.id, appId: r.app_id, signature: r.signature, firstSeenAt: new Date(r.first_seen_at), lastSeenAt: new Date(r.last_seen_at) }));
}

/**
 * Locks the given batches that are still open (run not started), in id order so two
 * triage transactions never wait on each other in a cycle; a run closes its batch under
 * the same lock. Batches missing from the answer have closed.
 */
export async function lockOpenBatches(tx: Queryable, ids: readonly string[]): Promise<Array<{ id: string; summary: string }>> {
  if (ids.length === 0) return [];
  return tx.query<{ id: string; summary: string }>(
    `SELECT b.id, b.summary FROM batches b JOIN runs r ON r.batch_id = b.id
      WHERE b.id = ANY($1::text[]) AND b.open_until > now() AND r.state = 'triaged'
      ORDER BY b.id
      FOR UPDATE OF b`,
    [[...ids]],
  );
}

export interface BatchJoinRow {
  reportId: string;
  batchId: string;
  orgId: string;
}

export interface BatchSummaryRow {
  batchId: string;
  summary: string;
  reportCount: number;
  /** Moved only earlier (first) or later (last) than what is stored. */
  firstSeenAt: Date;
  lastSeenAt: Date;
}

/** Assigns reports to (locked) batches, stores the batches' grown summaries and writes one batch.join audit event per report, in one statement. */
export async function joinReportsToBatches(tx: Queryable, joins: readonly BatchJoinRow[], summaries: readonly BatchSummaryRow[]): Promise<void> {
  if (joins.length === 0) return;
  const j = joins.map((x, n) => ({ n, report_id: x.reportId, batch_id: x.batchId, org_id: x.orgId }));
  const s = summaries.map((x) => ({
    batch_id: x.batchId,
    summary: x.summary,
    report_count: x.reportCount,
    first_seen_at: x.firstSeenAt.toISOString(),
    last_seen_at: x.lastSeenAt.toISOString(),
  }));
  await tx.query(
    `WITH j AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS t(n int, report_id text, batch_id text, org_id text)),
     assigned AS (UPDATE reports r SET batch_id = j.batch_id FROM j WHERE r.id = j.report_id),
     grown AS (
       UPDATE batches b SET summary = u.summary, report_count = u.report_count,
              first_seen_at = LEAST(b.first_seen_at, u.first_seen_at), last_seen_at = GREATEST(b.last_seen_at, u.last_seen_at)
         FROM jsonb_to_recordset($2::jsonb) AS u(batch_id text, summary text, report_count int, first_seen_at timestamptz, last_seen_at timestamptz)
        WHERE b.id = u.batch_id)
     INSERT INTO audit_events (actor, action, org_id, subject, data)
     SELECT 'pipeline', 'batch.join', org_id, batch_id, jsonb_build_object('reportId', report_id) FROM j ORDER BY n`,
    [JSON.stringify(j), JSON.stringify(s)],
  );
}

/** Every member of the given batches (content and received time), for a summary recomputed from scratch. */
export async function batchMembers(tx: Queryable, batchIds: readonly string[]): Promise<Array<{ batchId: string; content: unknown; createdAt: Date }>> {
  if (batchIds.length === 0) return [];
  const rows = await tx.query<{ batch_id: string; content: unknown; created_at: Date }>(
    'SELECT batch_id, content, created_at FROM reports WHERE batch_id = ANY($1::text[]) ORDER BY created_at, id',
    [[...batchIds]],
  );
  return rows.map((r) => ({ batchId: r.batch_id, content: r.content, createdAt: new Date(r.created_at) }));
}

/** Stores summaries recomputed from every member. */
export async function setBatchSummaries(tx: Queryable, summaries: readonly BatchSummaryRow[]): Promise<void> {
  if (summaries.length === 0) return;
  const s = summaries.map((x) => ({
    batch_id: x.batchId,
    summary: x.summary,
    report_count: x.reportCount,
    first_seen_at: x.firstSeenAt.toISOString(),
    last_seen_at: x.lastSeenAt.toISOString(),
  }));
  await tx.query(
    `UPDATE batches b SET summary = u.summary, report_count = u.report_count,
            first_seen_at = LEAST(b.first_seen_at, u.first_seen_at), last_seen_at = GREATEST(b.last_seen_at, u.last_seen_at)
       FROM jsonb_to_recordset($1::jsonb) AS u(batch_id text, summary text, report_count int, first_seen_at timestamptz, last_seen_at timestamptz)
      WHERE b.id = u.batch_id`,
    [JSON.stringify(s)],
  );
}
