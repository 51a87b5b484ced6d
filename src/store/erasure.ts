import type { Queryable } from './db/interface.js';

/**
 * Deletion on request (src/lifecycle/erase.ts): which rows and blobs belong to a subject
 * (an org, an App, or one reporter), and the statements that remove them. A plan is read
 * first and then executed by id, so a report that arrives in between is not touched and
 * nothing is deleted by a predicate that could have grown.
 */
export type ErasureSubject = { kind: 'org'; orgId: string } | { kind: 'app'; appId: string } | { kind: 'reporter'; reporter: string; orgId?: string };

export interface ErasurePlan {
  subject: ErasureSubject;
  /** The org the subject belongs to (null for a reporter looked up across orgs). */
  ownerOrgId: string | null;
  /** False when the org or App does not exist (a reporter is always "found", possibly with nothing). */
  found: boolean;
  orgIds: string[];
  appIds: string[];
  reportIds: string[];
  /** Batches (and their runs) whose every report goes. */
  batchIds: string[];
  runIds: string[];
  /** Batches that keep other reports: their summary is recomputed, their run's log and change set go. */
  mixedBatchIds: string[];
  mixedRunIds: string[];
  /** Secrets only the erased Apps used (signing secret, bot tokens). */
  secretIds: string[];
  /** Blob keys named by rows, and per-owner prefixes (reports/<id>/, runs/<id>/) for anything unnamed. */
  blobKeys: string[];
  blobPrefixes: string[];
  /** What cache entries (rate-limit buckets) are keyed by, for the subject's entries to be removed too. */
  cacheSubjects: ErasureCacheSubjects;
}

export interface ErasureCacheSubjects {
  /** Apps that go (per-App and per-key intake buckets are keyed by App id). */
  appIds: string[];
  /** (App, reporter key) pairs of the reports that go: the per-reporter intake buckets. */
  reporters: Array<{ appId: string; reporterKey: string }>;
  /** Prefixes of the `sk_` keys that go: their failed-verification buckets. */
  apiKeyPrefixes: string[];
  /** `slack:<team>` / `discord:<guild>` of the Apps that go: their failed link-code buckets. */
  chatWorkspaces: string[];
}

export interface ErasureCounts {
  orgs: number;
  apps: number;
  reports: number;
  batches: number;
  runs: number;
  secrets: number;
  apiKeys: number;
  repos: number;
  jobs: number;
  auditEvents: number;
  chatLinks: number;
  blobRows: number;
}

/** How a reporter given as an id or an email is stored: reporter_key forms and the reporter fields of the content. */
export function reporterKeysFor(reporter: string): string[] {
  return [reporter, `user:${reporter}`, `anon:${reporter}`, `slack:${reporter}`, `discord:${reporter}`];
}

export async function planErasure(db: Queryable, subject: ErasureSubject): Promise<ErasurePlan> {
  const reports = await reportsOf(db, subject);
  const reportIds = reports.map((r) => r.id);
  const orgIds = subject.kind === 'org' ? [subject.orgId] : [];
  const appIds =
    subject.kind === 'app' ? [subject.appId] : subject.kind === 'org' ? await idsOf(db, 'SELECT id FROM apps WHERE org_id = $1', [subject.orgId]) : [];

  // A batch goes with its last report; one that keeps other reports stays, re-summarised.
  const batches = await db.query<{ id: string; run_id: string | null; all_gone: boolean }>(
    `SELECT b.id, u.id AS run_id,
            NOT EXISTS (SELECT 1 FROM reports o WHERE o.batch_id = b.id AND NOT (o.id = ANY($1::text[]))) AS all_gone
       FROM batches b LEFT JOIN runs u ON u.batch_id = b.id
      WHERE b.id IN (SELECT batch_id FROM reports WHERE id = ANY($1::text[]) AND batch_id IS NOT NULL) OR b.app_id = ANY($2::text[])`,
    [reportIds, appIds],
  );
  const gone = batches.filter((b) => b.all_gone || subject.kind !== 'reporter');
  const mixed = batches.filter((b) => !b.all_gone && subject.kind === 'reporter');
  const runIds = gone.flatMap((b) => (b.run_id ? [b.run_id] : []));
  const mixedRunIds = mixed.flatMap((b) => (b.run_id ? [b.run_id] : []));
  const ownerRuns = [...runIds, ...mixedRunIds];

  const secretIds =
    appIds.length === 0
      ? []
      : await idsOf(
          db,
          `SELECT s FROM (
             SELECT signing_secret_id AS s FROM apps WHERE id = ANY($1::text[])
             UNION SELECT discord_bot_token_secret_id FROM apps WHERE id = ANY($1::text[])
             UNION SELECT bot_token_secret_id FROM slack_installations WHERE app_id = ANY($1::text[])) x
           WHERE s IS NOT NULL`,
          [appIds],
        );

  const keyRows = await db.query<{ key: string }>(
    `SELECT key FROM blobs WHERE report_id = ANY($1::text[]) OR run_id = ANY($2::text[]) OR app_id = ANY($3::text[])
     UNION SELECT a.value->>'blobKey' FROM reports r CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(r.attachments) = 'array' THEN r.attachments ELSE '[]'::jsonb END) a
      WHERE r.id = ANY($1::text[]) AND a.value->>'blobKey' IS NOT NULL
     UNION SELECT log_blob FROM runs WHERE id = ANY($2::text[]) AND log_blob IS NOT NULL
     UNION SELECT changeset_blob FROM runs WHERE id = ANY($2::text[]) AND changeset_blob IS NOT NULL`,
    [reportIds, ownerRuns, appIds],
  );
  const ownerOrgId =
    subject.kind === 'org'
      ? subject.orgId
      : subject.kind === 'app'
        ? ((await idsOf(db, 'SELECT org_id FROM apps WHERE id = $1', [subject.appId]))[0] ?? null)
        : (subject.orgId ?? null);
  const found =
    subject.kind === 'reporter' ||
    (subject.kind === 'app' ? ownerOrgId !== null : (await idsOf(db, 'SELECT id FROM orgs WHERE id = $1', [subject.orgId])).length === 1);
  const reporterRows = await db.query<{ app_id: string; reporter_key: string }>(
    'SELECT DISTINCT app_id, reporter_key FROM reports WHERE id = ANY($1::text[]) AND reporter_key IS NOT NULL ORDER BY app_id, reporter_key',
    [reportIds],
  );
  const workspaceRows = await db.query<{ w: string }>(
    `SELECT 'slack:' || slack_team_id AS w FROM apps WHERE id = ANY($1::text[]) AND slack_team_id IS NOT NULL
     UNION SELECT 'discord:' || discord_guild_id FROM apps WHERE id = ANY($1::text[]) AND discord_guild_id IS NOT NULL`,
    [appIds],
  );
  const cacheSubjects: ErasureCacheSubjects = {
    appIds,
    reporters: reporterRows.map((r) => ({ appId: r.app_id, reporterKey: r.reporter_key })),
    apiKeyPrefixes: await idsOf(db, 'SELECT prefix FROM api_keys WHERE org_id = ANY($1::text[]) ORDER BY prefix', [orgIds]),
    chatWorkspaces: workspaceRows.map((r) => r.w).sort(),
  };
  return {
    subject,
    ownerOrgId,
    found,
    cacheSubjects,
    orgIds,
    appIds,
    reportIds,
    batchIds: gone.map((b) => b.id),
    runIds,
    mixedBatchIds: mixed.map((b) => b.id),
    mixedRunIds,
    secretIds,
    blobKeys: keyRows.map((k) => k.key).sort(),
    blobPrefixes: [...reportIds.map((id) => `reports/${id}/`), ...ownerRuns.map((id) => `runs/${id}/`)],
  };
}

async function reportsOf(db: Queryable, subject: ErasureSubject): Promise<Array<{ id: string }>> {
  if (subject.kind === 'org') return db.query('SELECT id FROM reports WHERE org_id = $1', [subject.orgId]);
  if (subject.kind === 'app') return db.query('SELECT id FROM reports WHERE app_id = $1', [subject.appId]);
  return db.query(
    `SELECT id FROM reports
      WHERE ($2::text IS NULL OR org_id = $2)
        AND (reporter_key = ANY($1::text[])
             OR content->'reporter'->>'id' = $3
             OR lower(content->'reporter'->>'email') = lower($3))`,
    [reporterKeysFor(subject.reporter), subject.orgId ?? null, subject.reporter],
  );
}

async function idsOf(db: Queryable, sql: string, params: unknown[]): Promise<string[]> {
  const rows = await db.query<Record<string, string>>(sql, params);
  return rows.map((r) => Object.values(r)[0]!);
}

/**
 * Deletes the plan's rows (inside the caller's transaction). Jobs, audit events and blob
 * rows that name a deleted id go too; the caller writes the one audit event of the deletion
 * afterwards. Mixed batches keep their rows; their runs lose log and change set.
 */
export async function executeErasure(tx: Queryable, plan: ErasurePlan): Promise<ErasureCounts> {
  const ids = [...plan.reportIds, ...plan.runIds, ...plan.batchIds, ...plan.appIds, ...plan.orgIds];
  const runOwners = [...plan.runIds, ...plan.mixedRunIds];
  const count = async (sql: string, params: unknown[]) => (await tx.query(sql, params)).length;

  const jobs = await count(
    `DELETE FROM jobs WHERE payload->>'reportId' = ANY($1::text[]) OR payload->>'runId' = ANY($2::text[])
        OR key = ANY(SELECT 'triage:' || unnest($1::text[])) RETURNING 1`,
    [plan.reportIds, runOwners],
  );
  const auditEvents = await count(
    // Earlier deletion events stay: they are the record that deletions happened, and hold counts only.
    `DELETE FROM audit_events WHERE action <> 'data.deleted' AND (subject = ANY($1::text[]) OR org_id = ANY($2::text[]) OR data->>'reportId' = ANY($3::text[])) RETURNING 1`,
    [ids, plan.orgIds, plan.reportIds],
  );
  const blobRows = await count('DELETE FROM blobs WHERE report_id = ANY($1::text[]) OR run_id = ANY($2::text[]) OR key = ANY($3::text[]) RETURNING 1', [
    plan.reportIds,
    runOwners,
    plan.blobKeys,
  ]);
  await tx.query('UPDATE runs SET log_blob = NULL, changeset_blob = NULL WHERE id = ANY($1::text[])', [plan.mixedRunIds]);
  const reports = await count('DELETE FROM reports WHERE id = ANY($1::text[]) RETURNING 1', [plan.reportIds]);
  const runs = await count('DELETE FROM runs WHERE id = ANY($1::text[]) RETURNING 1', [plan.runIds]);
  const batches = await count('DELETE FROM batches WHERE id = ANY($1::text[]) RETURNING 1', [plan.batchIds]);
  const chatLinks =
    (await count('DELETE FROM chat_link_codes WHERE app_id = ANY($1::text[]) OR org_id = ANY($2::text[]) RETURNING 1', [plan.appIds, plan.orgIds])) +
    (await count('DELETE FROM slack_installations WHERE app_id = ANY($1::text[]) OR org_id = ANY($2::text[]) RETURNING 1', [plan.appIds, plan.orgIds]));
  const apps = await count('DELETE FROM apps WHERE id = ANY($1::text[]) RETURNING 1', [plan.appIds]);
  const appSecrets = await count('DELETE FROM secrets WHERE id = ANY($1::text[]) RETURNING 1', [plan.secretIds]);
  // An org takes everything else of its own with it: keys, repos, installations, secrets, data keys.
  const apiKeys = await count('DELETE FROM api_keys WHERE org_id = ANY($1::text[]) RETURNING 1', [plan.orgIds]);
  const repos = await count('DELETE FROM repos WHERE org_id = ANY($1::text[]) RETURNING 1', [plan.orgIds]);
  const orgSecrets = await count('DELETE FROM secrets WHERE org_id = ANY($1::text[]) RETURNING 1', [plan.orgIds]);
  const orgs = await count('DELETE FROM orgs WHERE id = ANY($1::text[]) RETURNING 1', [plan.orgIds]);
  return { orgs, apps, reports, batches, runs, secrets: appSecrets + orgSecrets, apiKeys, repos, jobs, auditEvents, chatLinks, blobRows };
}

/** The reports still in a batch, for its summary after others left. */
export async function listBatchMembers(db: Queryable, batchId: string): Promise<Array<{ content: unknown; createdAt: Date }>> {
  const rows = await db.query<{ content: unknown; created_at: Date }>('SELECT content, created_at FROM reports WHERE batch_id = $1 ORDER BY created_at, id', [
    batchId,
  ]);
  return rows.map((r) => ({ content: r.content, createdAt: new Date(r.created_at) }));
}

/** A batch's summary and fingerprint after some of its reports left (both were derived from them). */
export async function rewriteBatchSummary(
  db: Queryable,
  batchId: string,
  summary: { text: string; count: number },
  print: { fingerprint: string; signature: unknown },
): Promise<void> {
  await db.query('UPDATE batches SET summary = $2, report_count = $3, fingerprint = $4, signature = $5 WHERE id = $1', [
    batchId,
    summary.text,
    summary.count,
    print.fingerprint,
    JSON.stringify(print.signature),
  ]);
}

/** Every row stored for one org, table by table, for an access request. Hashes, ciphertexts and wrapped keys are left out. */
export async function exportOrgRows(db: Queryable, orgId: string): Promise<Record<string, unknown[]>> {
  const q = (sql: string) => db.query(sql, [orgId]);
  return {
    orgs: await q('SELECT * FROM orgs WHERE id = $1'),
    apps: await q('SELECT * FROM apps WHERE org_id = $1 ORDER BY id'),
    api_keys: await q('SELECT id, org_id, prefix, label, created_at, last_used_at, revoked_at FROM api_keys WHERE org_id = $1 ORDER BY id'),
    secrets: await q('SELECT id, org_id, kind, key_version, created_at FROM secrets WHERE org_id = $1 ORDER BY id'),
    repos: await q('SELECT * FROM repos WHERE org_id = $1 ORDER BY id'),
    github_installations: await q('SELECT * FROM github_installations WHERE org_id = $1'),
    slack_installations: await q('SELECT * FROM slack_installations WHERE org_id = $1'),
    chat_link_codes: await q('SELECT app_id, org_id, provider, created_by, created_at, expires_at, used_at, used_for FROM chat_link_codes WHERE org_id = $1'),
    reports: await q('SELECT * FROM reports WHERE org_id = $1 ORDER BY created_at, id'),
    batches: await q('SELECT b.* FROM batches b JOIN apps a ON a.id = b.app_id WHERE a.org_id = $1 ORDER BY b.created_at, b.id'),
    runs: await q('SELECT * FROM runs WHERE org_id = $1 ORDER BY created_at, id'),
    blobs: await q('SELECT * FROM blobs WHERE org_id = $1 ORDER BY key'),
    audit_events: await q('SELECT * FROM audit_events WHERE org_id = $1 ORDER BY id'),
  };
}
