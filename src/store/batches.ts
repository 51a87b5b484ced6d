import type { Queryable } from './db/interface.js';

/**
 * Batches: similar reports of one App that one run serves. Triage decides which batch a
 * report joins and writes the summary (triage/batch.ts, pipeline/triage-group.ts); this
 * module only stores them. A batch is open while `open_until` is ahead and its run is still
 * `triaged`. The grouped writes take many batches in one statement (jsonb_to_recordset).
 */

/** Closes the batch to new reports (a run started for it); no-op when it is already closed. */
export async function closeBatch(db: Queryable, batchId: string): Promise<void> {
  await db.query('UPDATE batches SET open_until = now() WHERE id = $1 AND open_until > now()', [batchId]);
}

export interface BatchReport {
  id: string;
  /** The stored ingest body (ReportContent); never logged. */
  content: unknown;
  createdAt: Date;
}

/** The batch's reports, first report first. */
export async function listBatchReports(db: Queryable, batchId: string): Promise<BatchReport[]> {
  const rows = await db.query<{ id: string; content: unknown; created_at: Date }>(
    'SELECT id, content, created_at FROM reports WHERE batch_id = $1 ORDER BY created_at',
    [batchId],
  );
  return rows.map((r) => ({ id: r.id, content: r.content, createdAt: new Date(r.created_at) }));
}

/**
 * What the tenancy check reads fresh before a credential is minted: the App's org, the
 * batch's App, and how many of the batch's reports there are and how many belong to
 * another org or App than the run's.
 */
export interface BatchTenancy {
  appOrgId: string | null;
  batchAppId: string | null;
  reports: number;
  foreignReports: number;
}

export async function readBatchTenancy(db: Queryable, q: { orgId: string; appId: string; batchId: string }): Promise<BatchTenancy> {
  const [row] = await db.query<{ app_org: string | null; batch_app: string | null; reports: number; foreign_reports: number }>(
    `SELECT a.org_id AS app_org, b.app_id AS batch_app,
            (SELECT count(*)::int FROM reports WHERE batch_id = $3) AS reports,
            (SELECT count(*)::int FROM reports WHERE batch_id = $3 AND (org_id <> $1 OR app_id <> $2)) AS foreign_reports
       FROM (SELECT 1) AS one
       LEFT JOIN apps a ON a.id = $2
       LEFT JOIN batches b ON b.id = $3`,
    [q.orgId, q.appId, q.batchId],
  );
  return { appOrgId: row!.app_org, batchAppId: row!.batch_app, reports: Number(row!.reports), foreignReports: Number(row!.foreign_reports) };
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
