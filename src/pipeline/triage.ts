import { UserzError } from '../errors.js';
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
import {
  assignReportToBatch,
  enqueueJob,
  findJoinableBatches,
  getReport,
  insertBatch,
  listBatchReports,
  lockOpenBatch,
  markReportErrored,
  recordAudit,
  recordTriageResult,
  setBatchSummary,
  type Queryable,
} from '../store/index.js';
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
    // Its audit event and the job's completion are written in the same statement.
    const locked = await recordTriageResult(tx, reportId, {
      signals: prefilter.signals,
      classification,
      decision,
      status: decision.action === 'run' ? 'triaged' : decision.action === 'reject' ? 'rejected' : 'needs_review',
      audit: { action: decision.action, reason: decision.reason },
      jobId: opts.jobId ?? null,
    });
    if (!locked) return;
    const triaged = { id: reportId, orgId: report.orgId, appId: report.appId, repoId: locked.repoId, createdAt: report.createdAt, content, fp };
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
    const moved = await markReportErrored(tx, reportId, reason.slice(0, 200));
    if (moved)
      await recordAudit(tx, { actor: 'pipeline', action: 'report.errored', orgId: moved.orgId, subject: reportId, data: { reason: reason.slice(0, 200) } });
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
  const rows = await findJoinableBatches<Fingerprint>(tx, {
    appId: report.appId,
    kind: report.fp.kind,
    errorKey: report.fp.kind === 'error' ? report.fp.key : null,
    receivedAt: report.createdAt,
    windowMs,
  });
  let open: OpenBatch[] = rows.map((b) => ({ id: b.id, appId: report.appId, fingerprint: b.signature, firstSeenAt: b.firstSeenAt, lastSeenAt: b.lastSeenAt }));
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
  const batch = await lockOpenBatch(tx, batchId);
  if (!batch) return false;
  await assignReportToBatch(tx, report.id, batchId);
  const grown = summaryTextAfterJoin(batch.summary, report.createdAt);
  if (grown) await setBatchSummary(tx, batchId, grown);
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

/** A new batch with `report` as its first member, its summary written with it. */
async function startBatch(tx: Queryable, report: TriagedReport, openForMs: number): Promise<string> {
  const summary = summarizeBatch([{ content: report.content, receivedAt: report.createdAt }]);
  return insertBatch(tx, { appId: report.appId, fingerprint: report.fp.key, signature: report.fp, summary, openForMs, firstReportId: report.id });
}

/** Recomputes a batch's trusted summary (count, top error, sanitised excerpt) from all its reports: for a stored summary in an older shape. */
async function refreshBatchSummary(tx: Queryable, batchId: string): Promise<void> {
  const reports = await listBatchReports(tx, batchId);
  const summary = summarizeBatch(reports.map((r) => ({ content: ReportContent.parse(r.content), receivedAt: r.createdAt })));
  await setBatchSummary(tx, batchId, summary);
}
