import { UserzError } from '../errors.js';
import { getReport } from '../store/reports.js';
import {
  classifyReport,
  decide,
  DEFAULT_BATCH_WINDOW_MS,
  findBatch,
  fingerprint,
  prefilterReport,
  ReportContent,
  summarizeBatch,
  summaryTextAfterJoin,
  type Fingerprint,
  type OpenBatch,
  type TriageDecision,
} from '../triage/index.js';
import { enqueueJob, newId, recordAudit, type Queryable } from '../store/index.js';
import type { PipelineDeps } from './deps.js';
import { insertTriagedRun } from './runs.js';

/**
 * Triage job: prefilter, classifier (its own model call, fails closed), policy. A report
 * that may run joins an open batch of the same App describing the same problem, or starts
 * one; a new batch's run is scheduled `batchDelayMs` later so similar reports can join it.
 * Reports held for review or rejected get a batch and run of their own in that state.
 * Idempotent: a report that already has a batch is left alone. With `jobId`, that triage
 * job is marked done in the same transaction, so it is done exactly when its report is.
 */
export async function triageReport(deps: PipelineDeps, reportId: string, opts: { jobId?: number } = {}): Promise<void> {
  const log = deps.log.child({ reportId });
  const report = await getReport(deps.db, reportId);
  if (!report) throw new UserzError('report_not_found', `No report ${reportId}`);
  const parsed = ReportContent.safeParse(report.content);
  // Intake stores only what parses; a row in another shape (written by an older version, or
  // by hand) can never be triaged, so it fails for good and the report shows `errored`.
  if (!parsed.success) throw new UserzError('report_unreadable', 'The stored report does not have the shape triage reads', { retryable: false });
  const content = parsed.data;
  const prefilter = prefilterReport(content);
  // Outside any transaction: a model call must not hold database locks.
  const classification = deps.classifier ? await classifyReport(content, { client: deps.classifier }) : null;
  const decision = decide({ signals: prefilter.signals, classification, threshold: prefilter.threshold });
  const fp = fingerprint(content);

  await deps.db.transaction(async (tx) => {
    // Locks the report row; one that has a batch already was triaged by an earlier attempt.
    // Its audit event (as recordAudit writes it) and the job's completion (as completeJob
    // does it) go in the same statement: one round trip where each took its own.
    const [locked] = await tx.query<{ repo_id: string | null }>(
      `WITH done AS (UPDATE jobs SET done_at = now(), locked_until = NULL, last_error = NULL WHERE id = $7::bigint),
            triaged AS (
              UPDATE reports SET signals = $2, classification = $3, decision = $4, status = $5 WHERE id = $1 AND batch_id IS NULL
              RETURNING id, org_id, app_id),
            audit AS (
              INSERT INTO audit_events (actor, action, org_id, subject, data)
              SELECT 'pipeline', 'report.triaged', org_id, id, $6::jsonb FROM triaged)
       SELECT (SELECT repo_id FROM apps WHERE apps.id = triaged.app_id) AS repo_id FROM triaged`,
      [
        reportId,
        JSON.stringify(prefilter.signals),
        JSON.stringify(classification),
        JSON.stringify(decision),
        decision.action === 'run' ? 'triaged' : decision.action === 'reject' ? 'rejected' : 'needs_review',
        JSON.stringify({ action: decision.action, reason: decision.reason }),
        opts.jobId ?? null,
      ],
    );
    if (!locked) return;
    const triaged = { id: reportId, orgId: report.orgId, appId: report.appId, repoId: locked.repo_id, createdAt: report.createdAt, content, fp };
    if (decision.action === 'run') await joinOrStartBatch(deps, tx, triaged);
    else await holdOrReject(tx, triaged, decision);
  });
  log.info({ action: decision.action, reason: decision.reason, signals: prefilter.signals.length }, 'Report triaged');
}

/**
 * A triage job that failed for good: the report moves from `received` to `errored` with
 * the reason (visible in GET /api/v1/reports/:id), instead of waiting forever behind a job
 * marked done. A report that was triaged meanwhile keeps its state.
 */
export async function recordTriageFailure(deps: Pick<PipelineDeps, 'db'>, reportId: string, reason: string): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const [row] = await tx.query<{ org_id: string }>(
      `UPDATE reports SET status = 'errored', status_reason = $2 WHERE id = $1 AND status = 'received' AND batch_id IS NULL RETURNING org_id`,
      [reportId, reason.slice(0, 200)],
    );
    if (row)
      await recordAudit(tx, { actor: 'pipeline', action: 'report.errored', orgId: row.org_id, subject: reportId, data: { reason: reason.slice(0, 200) } });
  });
}

interface TriagedReport {
  id: string;
  orgId: string;
  appId: string;
  repoId: string | null;
  createdAt: Date;
  content: ReportContent;
  fp: Fingerprint;
}

/**
 * Joins the open batch of the same App most like the report, or starts one. Candidates are
 * read without locks (only batches of the same fingerprint kind, and the same error key,
 * can match); only the chosen batch is locked, so benign reports of one App no longer
 * queue behind every open batch of that App. A batch that closed in between is passed over.
 */
async function joinOrStartBatch(deps: PipelineDeps, tx: Queryable, report: TriagedReport): Promise<void> {
  const windowMs = deps.batchWindowMs ?? DEFAULT_BATCH_WINDOW_MS;
  // A millisecond of slack each side: findBatch compares milliseconds, the column holds microseconds.
  const rows = await tx.query<{ id: string; signature: Fingerprint; first_seen_at: Date; last_seen_at: Date }>(
    `SELECT b.id, b.signature, b.first_seen_at, b.last_seen_at FROM batches b JOIN runs r ON r.batch_id = b.id
      WHERE b.app_id = $1 AND b.open_until > now() AND r.state = 'triaged' AND b.signature IS NOT NULL
        AND b.signature->>'kind' = $2 AND ($3::text IS NULL OR b.fingerprint = $3)
        AND b.first_seen_at < $4::timestamptz + interval '1 millisecond'
        AND b.first_seen_at > $4::timestamptz - ($5 || ' milliseconds')::interval - interval '1 millisecond'`,
    [report.appId, report.fp.kind, report.fp.kind === 'error' ? report.fp.key : null, report.createdAt, String(windowMs)],
  );
  let open: OpenBatch[] = rows.map((b) => ({
    id: b.id,
    appId: report.appId,
    fingerprint: b.signature,
    firstSeenAt: new Date(b.first_seen_at),
    lastSeenAt: new Date(b.last_seen_at),
  }));
  for (;;) {
    const match = findBatch({ appId: report.appId, fingerprint: report.fp, receivedAt: report.createdAt }, open, { windowMs });
    if (!match) break;
    if (await joinBatch(tx, match.id, report)) {
      await recordAudit(tx, { actor: 'pipeline', action: 'batch.join', orgId: report.orgId, subject: match.id, data: { reportId: report.id } });
      return;
    }
    open = open.filter((b) => b.id !== match.id);
  }
  const batchId = await startBatch(tx, report, deps.batchDelayMs);
  const runId = await insertTriagedRun(tx, { orgId: report.orgId, appId: report.appId, batchId, repoId: report.repoId }, 'triaged', 'benign');
  await enqueueJob(tx, 'run', `run:${runId}`, { runId }, { runAt: new Date(Date.now() + deps.batchDelayMs), maxAttempts: 4 });
}

/**
 * Adds the report to a batch whose run has not started, locking that batch row (a run
 * closes its batch under the same lock); false when it is no longer open. The summary is
 * brought up to date from the stored one, in one UPDATE, instead of from every member.
 */
async function joinBatch(tx: Queryable, batchId: string, report: TriagedReport): Promise<boolean> {
  const [batch] = await tx.query<{ summary: string }>(
    `SELECT b.summary FROM batches b JOIN runs r ON r.batch_id = b.id
      WHERE b.id = $1 AND b.open_until > now() AND r.state = 'triaged'
      FOR UPDATE OF b`,
    [batchId],
  );
  if (!batch) return false;
  await tx.query('UPDATE reports SET batch_id = $2 WHERE id = $1', [report.id, batchId]);
  const grown = summaryTextAfterJoin(batch.summary, report.createdAt);
  if (grown) await tx.query('UPDATE batches SET summary = $2, report_count = $3, last_seen_at = now() WHERE id = $1', [batchId, grown.text, grown.count]);
  else await refreshBatchSummary(tx, batchId);
  return true;
}

async function holdOrReject(tx: Queryable, report: TriagedReport, decision: TriageDecision): Promise<void> {
  const batchId = await startBatch(tx, report, 0);
  const runInput = { orgId: report.orgId, appId: report.appId, batchId, repoId: report.repoId };
  if (decision.action === 'reject') {
    const runId = await insertTriagedRun(tx, runInput, 'rejected', decision.reason);
    await enqueueJob(tx, 'notify', `notify:${runId}`, { runId });
  } else {
    await insertTriagedRun(tx, runInput, 'needs_review', decision.reason);
  }
}

/**
 * A new batch with `report` as its first member, its summary written with it. One statement
 * (the report's foreign key is checked at its end, after the batch row exists).
 */
async function startBatch(tx: Queryable, report: TriagedReport, openForMs: number): Promise<string> {
  const id = newId('bat');
  const summary = summarizeBatch([{ content: report.content, receivedAt: report.createdAt }]);
  await tx.query(
    `WITH batch AS (
       INSERT INTO batches (id, app_id, fingerprint, signature, summary, report_count, open_until)
       VALUES ($1, $2, $3, $4, $5, $6, now() + ($7 || ' milliseconds')::interval) RETURNING id)
     UPDATE reports SET batch_id = (SELECT id FROM batch) WHERE id = $8`,
    [id, report.appId, report.fp.key, JSON.stringify(report.fp), summary.text, summary.count, String(openForMs), report.id],
  );
  return id;
}

/** Recomputes a batch's trusted summary (count, top error, sanitised excerpt) from all its reports: for a stored summary in an older shape. */
async function refreshBatchSummary(tx: Queryable, batchId: string): Promise<void> {
  const rows = await tx.query<{ content: unknown; created_at: Date }>('SELECT content, created_at FROM reports WHERE batch_id = $1 ORDER BY created_at', [
    batchId,
  ]);
  const summary = summarizeBatch(rows.map((r) => ({ content: ReportContent.parse(r.content), receivedAt: new Date(r.created_at) })));
  await tx.query('UPDATE batches SET summary = $2, report_count = $3, last_seen_at = now() WHERE id = $1', [batchId, summary.text, summary.count]);
}
