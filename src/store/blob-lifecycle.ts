import type { Db, Queryable } from './db/interface.js';

/**
 * Blob rows (migration 007): each blob's owner (report or run) and creation time, whether
 * it expired, and the retention settings the lifecycle job reads. The blob bytes
 * themselves are in the BlobStore; only src/lifecycle/ deletes them.
 */
export type BlobKind = 'attachment' | 'run_log' | 'changeset';

export interface BlobRow {
  key: string;
  orgId: string;
  appId: string;
  kind: BlobKind;
  reportId: string | null;
  runId: string | null;
  createdAt: Date;
  expiredAt: Date | null;
}

export const LIFECYCLE_JOB_KEY = 'lifecycle:blobs';

type RawBlobRow = {
  key: string;
  org_id: string;
  app_id: string;
  kind: BlobKind;
  report_id: string | null;
  run_id: string | null;
  created_at: Date;
  expired_at: Date | null;
};

const toBlobRow = (r: RawBlobRow): BlobRow => ({
  key: r.key,
  orgId: r.org_id,
  appId: r.app_id,
  kind: r.kind,
  reportId: r.report_id,
  runId: r.run_id,
  createdAt: new Date(r.created_at),
  expiredAt: r.expired_at ? new Date(r.expired_at) : null,
});

/** A blob's owner as its write registers it: a report (attachments) or a run (log, change set). */
export type BlobOwnerRow = { key: string; orgId: string; appId: string; kind: BlobKind } & ({ reportId: string } | { runId: string });

/**
 * Inserts the owner rows of blobs just written, in the caller's transaction (the one that
 * stores their report or names them on their run), created now. A key written again (a
 * retried run's transcript) is a new blob: its row's time restarts and it is live again.
 */
export async function insertBlobRows(tx: Queryable, rows: readonly BlobOwnerRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO blobs (key, org_id, app_id, kind, report_id, run_id, created_at)
     SELECT b.key, b.org_id, b.app_id, b.kind, b.report_id, b.run_id, now()
       FROM jsonb_to_recordset($1::jsonb) AS b(key text, org_id text, app_id text, kind text, report_id text, run_id text)
     ON CONFLICT (key) DO UPDATE SET created_at = EXCLUDED.created_at, expired_at = NULL`,
    [
      JSON.stringify(
        rows.map((r) => ({
          key: r.key,
          org_id: r.orgId,
          app_id: r.appId,
          kind: r.kind,
          report_id: 'reportId' in r ? r.reportId : null,
          run_id: 'runId' in r ? r.runId : null,
        })),
      ),
    ],
  );
}

/**
 * Repair path for legacy blobs (every write registers its row with insertBlobRows): gives
 * a row to every blob a report or run names that has none yet (attachments in
 * reports.attachments, runs.log_blob and runs.changeset_blob), with the owner's time as
 * its creation time. Safe to repeat; returns how many rows it added.
 */
export async function registerBlobs(db: Queryable): Promise<number> {
  const rows = await db.query<{ n: number }>(
    `WITH added AS (
       INSERT INTO blobs (key, org_id, app_id, kind, report_id, run_id, created_at)
       SELECT a.value->>'blobKey', r.org_id, r.app_id, 'attachment', r.id, NULL, r.created_at
         FROM reports r CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(r.attachments) = 'array' THEN r.attachments ELSE '[]'::jsonb END) a
        WHERE a.value->>'blobKey' IS NOT NULL AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.key = a.value->>'blobKey')
       UNION ALL
       SELECT u.log_blob, u.org_id, u.app_id, 'run_log', NULL, u.id, coalesce(u.finished_at, u.started_at, u.created_at)
         FROM runs u WHERE u.log_blob IS NOT NULL AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.key = u.log_blob)
       UNION ALL
       SELECT u.changeset_blob, u.org_id, u.app_id, 'changeset', NULL, u.id, coalesce(u.finished_at, u.started_at, u.created_at)
         FROM runs u WHERE u.changeset_blob IS NOT NULL AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.key = u.changeset_blob)
       ON CONFLICT (key) DO NOTHING
       RETURNING 1)
     SELECT count(*)::int AS n FROM added`,
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * Live blobs past their org's retention at `now`, oldest first, whose report or run is not
 * retained (its own flag, else its App's default). At most `limit`.
 */
export async function listDueBlobs(db: Queryable, now: Date, limit: number): Promise<BlobRow[]> {
  const rows = await db.query<RawBlobRow>(
    `SELECT b.key, b.org_id, b.app_id, b.kind, b.report_id, b.run_id, b.created_at, b.expired_at
       FROM blobs b
       JOIN orgs o ON o.id = b.org_id
       JOIN apps a ON a.id = b.app_id
       LEFT JOIN reports r ON r.id = b.report_id
       LEFT JOIN runs u ON u.id = b.run_id
      WHERE b.expired_at IS NULL
        AND b.created_at < $1::timestamptz - make_interval(days => o.blob_retention_days)
        AND NOT coalesce(r.retained, u.retained, a.retain_blobs)
      ORDER BY b.created_at, b.key
      LIMIT $2`,
    [now, limit],
  );
  return rows.map(toBlobRow);
}

/** Marks blobs expired (their bytes are gone); rows already marked keep their first time. */
export async function markBlobsExpired(db: Queryable, keys: string[], at: Date): Promise<number> {
  if (keys.length === 0) return 0;
  const rows = await db.query('UPDATE blobs SET expired_at = $2 WHERE key = ANY($1::text[]) AND expired_at IS NULL RETURNING 1', [keys, at]);
  return rows.length;
}

export async function listBlobsOfReport(db: Queryable, reportId: string): Promise<BlobRow[]> {
  const rows = await db.query<RawBlobRow>(
    `SELECT key, org_id, app_id, kind, report_id, run_id, created_at, expired_at FROM blobs WHERE report_id = $1 ORDER BY key`,
    [reportId],
  );
  return rows.map(toBlobRow);
}

export async function listBlobsOfRun(db: Queryable, runId: string): Promise<BlobRow[]> {
  const rows = await db.query<RawBlobRow>(
    `SELECT key, org_id, app_id, kind, report_id, run_id, created_at, expired_at FROM blobs WHERE run_id = $1 ORDER BY key`,
    [runId],
  );
  return rows.map(toBlobRow);
}

/** The row of one blob key, or null when none is registered. */
export async function getBlobRow(db: Queryable, key: string): Promise<BlobRow | null> {
  const [row] = await db.query<RawBlobRow>('SELECT key, org_id, app_id, kind, report_id, run_id, created_at, expired_at FROM blobs WHERE key = $1', [key]);
  return row ? toBlobRow(row) : null;
}

/** Sets a report's retention (true, false, or null to follow its App); false when no such report in the org. */
export async function setReportRetention(db: Queryable, orgId: string, reportId: string, retained: boolean | null): Promise<boolean> {
  const rows = await db.query('UPDATE reports SET retained = $3 WHERE id = $1 AND org_id = $2 RETURNING 1', [reportId, orgId, retained]);
  return rows.length === 1;
}

export async function setRunRetention(db: Queryable, orgId: string, runId: string, retained: boolean | null): Promise<boolean> {
  const rows = await db.query('UPDATE runs SET retained = $3 WHERE id = $1 AND org_id = $2 RETURNING 1', [runId, orgId, retained]);
  return rows.length === 1;
}

export async function setAppRetention(db: Queryable, orgId: string, appId: string, retained: boolean): Promise<boolean> {
  const rows = await db.query('UPDATE apps SET retain_blobs = $3 WHERE id = $1 AND org_id = $2 RETURNING 1', [appId, orgId, retained]);
  return rows.length === 1;
}

export async function setOrgRetentionDays(db: Queryable, orgId: string, days: number): Promise<boolean> {
  const rows = await db.query('UPDATE orgs SET blob_retention_days = $2 WHERE id = $1 RETURNING 1', [orgId, days]);
  return rows.length === 1;
}

export interface RetentionSettings {
  days: number;
  /** Per App: whether its reports and runs are retained by default. */
  apps: Array<{ id: string; retained: boolean }>;
}

export async function getRetentionSettings(db: Queryable, orgId: string): Promise<RetentionSettings | null> {
  const [org] = await db.query<{ days: number }>('SELECT blob_retention_days AS days FROM orgs WHERE id = $1', [orgId]);
  if (!org) return null;
  const apps = await db.query<{ id: string; retain_blobs: boolean }>('SELECT id, retain_blobs FROM apps WHERE org_id = $1 ORDER BY id', [orgId]);
  return { days: Number(org.days), apps: apps.map((a) => ({ id: a.id, retained: a.retain_blobs })) };
}

/**
 * The one recurring lifecycle job in the jobs table (no second scheduler). Created when
 * missing, and revived if it was ever closed.
 */
export async function ensureLifecycleJob(db: Queryable, runAt: Date = new Date()): Promise<void> {
  await db.query(
    `INSERT INTO jobs (kind, key, payload, run_at, max_attempts) VALUES ('lifecycle', $1, '{}', $2, 1000)
     ON CONFLICT (key) DO UPDATE SET done_at = NULL, attempts = 0, run_at = least(jobs.run_at, EXCLUDED.run_at), last_error = NULL
      WHERE jobs.done_at IS NOT NULL`,
    [LIFECYCLE_JOB_KEY, runAt],
  );
}

/** A recurring job's next turn: due again at `runAt`, its lease released and attempts reset; `error` is kept for operators. */
export async function rescheduleJob(db: Db | Queryable, jobId: number, runAt: Date, error: string | null = null): Promise<void> {
  await db.query('UPDATE jobs SET run_at = $2, locked_until = NULL, locked_by = NULL, attempts = 0, last_error = $3, done_at = NULL WHERE id = $1', [
    jobId,
    runAt,
    error === null ? null : error.slice(0, 500),
  ]);
}

export interface ReportAttachmentRef {
  id: string;
  name: string;
  contentType: string;
  size: number;
  blobKey: string;
}

/** A report's attachments as stored, or null when the report is not in this org. */
export async function getReportAttachments(db: Queryable, orgId: string, reportId: string): Promise<ReportAttachmentRef[] | null> {
  const [row] = await db.query<{ attachments: unknown }>('SELECT attachments FROM reports WHERE id = $1 AND org_id = $2', [reportId, orgId]);
  if (!row) return null;
  return Array.isArray(row.attachments) ? (row.attachments as ReportAttachmentRef[]) : [];
}
