import { UserzError } from '../errors.js';
import { getReport } from '../store/reports.js';
import { classifyReport, decide, findBatch, fingerprint, prefilterReport, ReportContent, summarizeBatch, type Fingerprint, type TriageDecision } from '../triage/index.js';
import { newId, recordAudit, type Queryable } from '../store/index.js';
import type { PipelineDeps } from './deps.js';
import { enqueueJob } from './queue.js';
import { insertRun, transitionRun } from './runs.js';

/**
 * Triage job: prefilter, classifier (its own model call, fails closed), policy. A report
 * that may run joins an open batch of the same App describing the same problem, or starts
 * one; a new batch's run is scheduled `batchDelayMs` later so similar reports can join it.
 * Reports held for review or rejected get a batch and run of their own in that state.
 * Idempotent: a report that already has a batch is left alone.
 */
export async function triageReport(deps: PipelineDeps, reportId: string): Promise<void> {
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
    const [locked] = await tx.query<{ batch_id: string | null }>('SELECT batch_id FROM reports WHERE id = $1 FOR UPDATE', [reportId]);
    if (!locked || locked.batch_id) return;
    await tx.query('UPDATE reports SET signals = $2, classification = $3, decision = $4, status = $5 WHERE id = $1', [
      reportId,
      JSON.stringify(prefilter.signals),
      JSON.stringify(classification),
      JSON.stringify(decision),
      decision.action === 'run' ? 'triaged' : decision.action === 'reject' ? 'rejected' : 'needs_review',
    ]);
    await recordAudit(tx, { actor: 'pipeline', action: 'report.triaged', orgId: report.orgId, subject: reportId, data: { action: decision.action, reason: decision.reason } });
    if (decision.action === 'run') await joinOrStartBatch(deps, tx, { id: reportId, orgId: report.orgId, appId: report.appId, createdAt: report.createdAt, content, fp });
    else await holdOrReject(tx, { id: reportId, orgId: report.orgId, appId: report.appId, fp }, decision);
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
    if (row) await recordAudit(tx, { actor: 'pipeline', action: 'report.errored', orgId: row.org_id, subject: reportId, data: { reason: reason.slice(0, 200) } });
  });
}

interface TriagedReport {
  id: string;
  orgId: string;
  appId: string;
  createdAt: Date;
  content: ReportContent;
  fp: Fingerprint;
}

async function joinOrStartBatch(deps: PipelineDeps, tx: Queryable, report: TriagedReport): Promise<void> {
  // Open batches: same App, still accepting, and their run has not started yet. Locked in
  // id order, so concurrent triage jobs of one App queue on them instead of deadlocking.
  const open = await tx.query<{ id: string; signature: Fingerprint; first_seen_at: Date; last_seen_at: Date }>(
    `SELECT b.id, b.signature, b.first_seen_at, b.last_seen_at FROM batches b JOIN runs r ON r.batch_id = b.id
      WHERE b.app_id = $1 AND b.open_until > now() AND r.state = 'triaged' AND b.signature IS NOT NULL
      ORDER BY b.id
      FOR UPDATE OF b`,
    [report.appId],
  );
  const match = findBatch(
    { appId: report.appId, fingerprint: report.fp, receivedAt: report.createdAt },
    open.map((b) => ({ id: b.id, appId: report.appId, fingerprint: b.signature, firstSeenAt: new Date(b.first_seen_at), lastSeenAt: new Date(b.last_seen_at) })),
    { windowMs: deps.batchWindowMs },
  );
  if (match) {
    await tx.query('UPDATE reports SET batch_id = $2 WHERE id = $1', [report.id, match.id]);
    await refreshBatchSummary(tx, match.id);
    await recordAudit(tx, { actor: 'pipeline', action: 'batch.join', orgId: report.orgId, subject: match.id, data: { reportId: report.id } });
    return;
  }
  const batchId = await insertBatch(tx, report.appId, report.fp, deps.batchDelayMs);
  await tx.query('UPDATE reports SET batch_id = $2 WHERE id = $1', [report.id, batchId]);
  await refreshBatchSummary(tx, batchId);
  const [app] = await tx.query<{ repo_id: string | null }>('SELECT repo_id FROM apps WHERE id = $1', [report.appId]);
  const run = await insertRun(tx, { orgId: report.orgId, appId: report.appId, batchId, repoId: app?.repo_id ?? null, state: 'queued' });
  await transitionRun(tx, run.id, 'queued', 'triaged', { reason: 'benign' });
  await enqueueJob(tx, 'run', `run:${run.id}`, { runId: run.id }, { runAt: new Date(Date.now() + deps.batchDelayMs), maxAttempts: 4 });
}

async function holdOrReject(tx: Queryable, report: Omit<TriagedReport, 'content' | 'createdAt'>, decision: TriageDecision): Promise<void> {
  const batchId = await insertBatch(tx, report.appId, report.fp, 0);
  await tx.query('UPDATE reports SET batch_id = $2 WHERE id = $1', [report.id, batchId]);
  await refreshBatchSummary(tx, batchId);
  const [app] = await tx.query<{ repo_id: string | null }>('SELECT repo_id FROM apps WHERE id = $1', [report.appId]);
  const run = await insertRun(tx, { orgId: report.orgId, appId: report.appId, batchId, repoId: app?.repo_id ?? null, state: 'queued' });
  if (decision.action === 'reject') {
    await transitionRun(tx, run.id, 'queued', 'rejected', { reason: decision.reason });
    await enqueueJob(tx, 'notify', `notify:${run.id}`, { runId: run.id });
  } else {
    await transitionRun(tx, run.id, 'queued', 'needs_review', { reason: decision.reason });
  }
}

async function insertBatch(tx: Queryable, appId: string, fp: Fingerprint, openForMs: number): Promise<string> {
  const id = newId('bat');
  await tx.query(
    `INSERT INTO batches (id, app_id, fingerprint, signature, open_until) VALUES ($1, $2, $3, $4, now() + ($5 || ' milliseconds')::interval)`,
    [id, appId, fp.key, JSON.stringify(fp), String(openForMs)],
  );
  return id;
}

/** Recomputes a batch's trusted summary (count, top error, sanitised excerpt) from its reports. */
async function refreshBatchSummary(tx: Queryable, batchId: string): Promise<void> {
  const rows = await tx.query<{ content: unknown; created_at: Date }>('SELECT content, created_at FROM reports WHERE batch_id = $1 ORDER BY created_at', [batchId]);
  const summary = summarizeBatch(rows.map((r) => ({ content: ReportContent.parse(r.content), receivedAt: new Date(r.created_at) })));
  await tx.query('UPDATE batches SET summary = $2, report_count = $3, last_seen_at = now() WHERE id = $1', [batchId, summary.text, summary.count]);
}
