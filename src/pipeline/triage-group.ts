import { UserzError } from '../errors.js';
import {
  batchMembers,
  enqueueJobRows,
  findOpenBatches,
  getReports,
  insertBatchesWithReports,
  insertTriagedRuns,
  joinReportsToBatches,
  lockOpenBatches,
  markReportsTriaged,
  newId,
  setBatchSummaries,
  type BatchSummaryRow,
  type NewBatchRow,
  type NewJobRow,
  type Queryable,
  type Report,
  type TriagedRunRow,
} from '../store/index.js';
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
import { emitWebhookEvents, type WebhookEvent } from '../webhooks/index.js';
import type { PipelineDeps } from './deps.js';
import { countedClient } from './counted-model.js';
import { modelsFor } from './models.js';
import { TERMINAL_STATES, TRANSITIONS } from './states.js';

/**
 * Triage in groups. The model call and the prefilter are per report; the writes of every
 * report that finished meanwhile go in one transaction of a few statements (group commit),
 * whatever their number: at 500 reports/s a transaction per report, of 7-9 round trips
 * each, was what capped triage near 250 jobs/s (the CPU went to socket writes and commits,
 * the pool's connections were the queue). Each report's effects are still all-or-nothing
 * with its job's completion; a group that fails is written again one report per
 * transaction, so one bad report (or a deadlock) fails only its own job.
 */

export interface TriageAssessment {
  report: Report;
  content: ReportContent;
  signals: ReturnType<typeof prefilterReport>['signals'];
  classification: Awaited<ReturnType<typeof classifyReport>> | null;
  decision: TriageDecision;
  fp: Fingerprint;
}

export interface TriageItem {
  assessment: TriageAssessment;
  /** The triage job to close with the report; absent when triage is not run by a job. */
  jobId?: number;
}

/**
 * Prefilter, classifier (its own model call with the org's model, fails closed), policy;
 * writes only the classifier call's ledger row. An org without a model: needs_review, `model_not_configured`.
 */
export async function assessReport(deps: Pick<PipelineDeps, 'db' | 'classifier' | 'agent' | 'models' | 'metrics'>, report: Report): Promise<TriageAssessment> {
  const parsed = ReportContent.safeParse(report.content);
  // Intake stores only what parses; a row in another shape (written by an older version, or
  // by hand) can never be triaged, so it fails for good and the report shows `errored`.
  if (!parsed.success) throw new UserzError('report_unreadable', 'The stored report does not have the shape triage reads', { retryable: false });
  const content = parsed.data;
  const prefilter = prefilterReport(content);
  // Outside any transaction: a model call must not hold database locks or a connection.
  const models = await modelsFor(deps, report.orgId);
  const classifier = models?.classifierFor(report.id) ?? null;
  const classification = classifier ? await classifyReport(content, { client: countedClient(classifier, deps.metrics, 'classifier', models?.prices) }) : null;
  const decision: TriageDecision = models
    ? decide({ signals: prefilter.signals, classification, threshold: prefilter.threshold })
    : { action: 'needs_review', reason: 'model_not_configured' };
  return { report, content, signals: prefilter.signals, classification, decision, fp: fingerprint(content) };
}

const reportStatus = (d: TriageDecision) => (d.action === 'run' ? 'triaged' : d.action === 'reject' ? 'rejected' : 'needs_review');

function triagedRun(input: Omit<TriagedRunRow, 'terminal'>): TriagedRunRow {
  if (!TRANSITIONS.queued.includes(input.state)) throw new UserzError('bad_transition', `A run cannot go from queued to ${input.state}`);
  return { ...input, terminal: TERMINAL_STATES.has(input.state) };
}

/**
 * Writes the triage of `items` in `tx`: each report's result and report.triaged event, its
 * job closed; a report held for review or rejected gets a batch and run of its own in that
 * state; a benign one joins an open batch of its App describing the same problem, or starts
 * one whose run is scheduled `batchDelayMs` later. A report that already has a batch was
 * triaged by an earlier attempt and is left alone (its job is still closed).
 */
export async function applyTriage(deps: Pick<PipelineDeps, 'batchDelayMs' | 'batchWindowMs'>, tx: Queryable, items: readonly TriageItem[]): Promise<void> {
  if (items.length === 0) return;
  const marked = await markReportsTriaged(
    tx,
    items.map(({ assessment: a, jobId }) => ({
      reportId: a.report.id,
      jobId: jobId ?? null,
      signals: a.signals,
      classification: a.classification,
      decision: a.decision,
      status: reportStatus(a.decision),
      audit: { action: a.decision.action, reason: a.decision.reason },
    })),
  );
  const repoOf = new Map(marked.map((m) => [m.id, m.repoId]));
  const seen = new Set<string>();
  const todo = items.map((i) => i.assessment).filter((a) => repoOf.has(a.report.id) && !seen.has(a.report.id) && seen.add(a.report.id));

  const batches: NewBatchRow[] = [];
  const runs: TriagedRunRow[] = [];
  const jobs: NewJobRow[] = [];
  const events: WebhookEvent[] = [];
  for (const a of todo) {
    if (a.decision.action === 'run') continue;
    // Held for review or rejected: a batch and run of their own, never open to others.
    const batchId = newId('bat');
    const summary = summarizeBatch([{ content: a.content, receivedAt: a.report.createdAt }]);
    batches.push({
      id: batchId,
      orgId: a.report.orgId,
      appId: a.report.appId,
      fingerprintKey: a.fp.key,
      signature: a.fp,
      summary: summary.text,
      reportCount: summary.count,
      openForMs: 0,
      firstSeenAt: a.report.createdAt,
      lastSeenAt: a.report.createdAt,
      reportIds: [a.report.id],
    });
    const runId = newId('run');
    const state = a.decision.action === 'reject' ? 'rejected' : 'needs_review';
    runs.push(
      triagedRun({
        id: runId,
        orgId: a.report.orgId,
        appId: a.report.appId,
        batchId,
        repoId: repoOf.get(a.report.id) ?? null,
        state,
        reason: a.decision.reason,
      }),
    );
    if (state === 'rejected') jobs.push({ kind: 'notify', key: `notify:${runId}`, payload: { runId }, runAt: new Date(), maxAttempts: 5 });
    else {
      const data = { reportId: a.report.id, runId, appId: a.report.appId, reason: a.decision.reason };
      events.push({ orgId: a.report.orgId, type: 'report.needs_review', data });
    }
  }
  const benign = todo.filter((a) => a.decision.action === 'run');
  if (benign.length > 0) {
    const started = await joinOrStartBatches(deps, tx, benign);
    for (const b of started) {
      batches.push(b.row);
      const runId = newId('run');
      runs.push(
        triagedRun({
          id: runId,
          orgId: b.orgId,
          appId: b.row.appId,
          batchId: b.row.id,
          repoId: repoOf.get(b.row.reportIds[0]!) ?? null,
          state: 'triaged',
          reason: 'benign',
        }),
      );
      jobs.push({ kind: 'run', key: `run:${runId}`, payload: { runId }, runAt: new Date(Date.now() + deps.batchDelayMs), maxAttempts: 4 });
    }
  }
  await insertBatchesWithReports(tx, batches);
  await insertTriagedRuns(tx, runs);
  await enqueueJobRows(tx, jobs);
  await emitWebhookEvents(tx, events);
}

interface PlannedBatch extends OpenBatch {
  /** Not stored yet: started by a report of this group. */
  fresh: boolean;
  orgId: string;
  members: TriageAssessment[];
}

/**
 * Batch membership follows the reports' received times, not the order triage reaches them:
 * many reports are triaged at once, and a retried one comes back late, so a report may be
 * older than a batch's first member. It joins such a batch when the batch's span, with it,
 * stays inside the window (findBatch), and becomes its first member: first_seen_at moves
 * back and the summary is recomputed from every member. (The old rule, "a report older than
 * a batch's first_seen_at never joins it", with first_seen_at taken at triage time, meant
 * that no report of a backlog ever joined a batch, and a retried report always started a
 * second run for the same problem.)
 */
async function joinOrStartBatches(
  deps: Pick<PipelineDeps, 'batchDelayMs' | 'batchWindowMs'>,
  tx: Queryable,
  benign: readonly TriageAssessment[],
): Promise<Array<{ row: NewBatchRow; orgId: string }>> {
  const windowMs = deps.batchWindowMs ?? DEFAULT_BATCH_WINDOW_MS;
  const ordered = [...benign].sort((x, y) => x.report.createdAt.getTime() - y.report.createdAt.getTime() || (x.report.id < y.report.id ? -1 : 1));
  // Candidates, read unlocked: same App, same fingerprint kind (and error key), first report
  // within a window of the group's received times. A millisecond of slack each side: the
  // column holds microseconds, Date milliseconds.
  const queries = new Map<string, { appId: string; kind: string; key: string | null; lo: number; hi: number }>();
  for (const a of ordered) {
    const key = a.fp.kind === 'error' ? a.fp.key : null;
    const id = `${a.report.appId}\n${a.fp.kind}\n${key ?? ''}`;
    const at = a.report.createdAt.getTime();
    const q = queries.get(id);
    if (q) {
      q.lo = Math.min(q.lo, at);
      q.hi = Math.max(q.hi, at);
    } else queries.set(id, { appId: a.report.appId, kind: a.fp.kind, key, lo: at, hi: at });
  }
  const stored = await findOpenBatches(
    tx,
    [...queries.values()].map((q) => ({
      appId: q.appId,
      kind: q.kind,
      key: q.key,
      firstSeenAfter: new Date(q.lo - windowMs - 1),
      firstSeenBefore: new Date(q.hi + windowMs + 1),
    })),
  );
  let candidates = stored.map((b) => ({
    id: b.id,
    appId: b.appId,
    fingerprint: b.signature as Fingerprint,
    firstSeenAt: b.firstSeenAt,
    lastSeenAt: b.lastSeenAt,
  }));

  for (;;) {
    const planned = plan(ordered, candidates, windowMs);
    const joined = planned.filter((b) => !b.fresh);
    const locked = await lockOpenBatches(
      tx,
      joined.map((b) => b.id),
    );
    if (locked.length < joined.length) {
      // A run closed some of them in between: plan again without those.
      const open = new Set(locked.map((b) => b.id));
      const closed = new Set(joined.filter((b) => !open.has(b.id)).map((b) => b.id));
      candidates = candidates.filter((b) => !closed.has(b.id));
      continue;
    }
    const summaryOf = new Map(locked.map((b) => [b.id, b.summary]));
    const grownRows: BatchSummaryRow[] = [];
    const recount: BatchSummaryRow[] = [];
    for (const b of joined) {
      const members = b.members;
      const range = { firstSeenAt: members[0]!.report.createdAt, lastSeenAt: members[members.length - 1]!.report.createdAt };
      let text: string | null = summaryOf.get(b.id)!;
      let count = 0;
      for (const m of members) {
        const grown: { text: string; count: number } | null = text === null ? null : summaryTextAfterJoin(text, m.report.createdAt);
        text = grown?.text ?? null;
        count = grown?.count ?? 0;
      }
      if (text === null) recount.push({ batchId: b.id, summary: '', reportCount: 0, ...range });
      else grownRows.push({ batchId: b.id, summary: text, reportCount: count, ...range });
    }
    await joinReportsToBatches(
      tx,
      joined.flatMap((b) => b.members.map((m) => ({ reportId: m.report.id, batchId: b.id, orgId: m.report.orgId }))),
      grownRows,
    );
    if (recount.length > 0) {
      // A member older than the first (or a summary in an older shape): from every member.
      const all = await batchMembers(
        tx,
        recount.map((r) => r.batchId),
      );
      for (const r of recount) {
        const summary = summarizeBatch(
          all.filter((m) => m.batchId === r.batchId).map((m) => ({ content: ReportContent.parse(m.content), receivedAt: m.createdAt })),
        );
        r.summary = summary.text;
        r.reportCount = summary.count;
      }
      await setBatchSummaries(tx, recount);
    }
    return planned
      .filter((b) => b.fresh)
      .map((b) => {
        const summary = summarizeBatch(b.members.map((m) => ({ content: m.content, receivedAt: m.report.createdAt })));
        return {
          orgId: b.orgId,
          row: {
            id: b.id,
            orgId: b.orgId,
            appId: b.appId,
            fingerprintKey: b.members[0]!.fp.key,
            signature: b.members[0]!.fp,
            summary: summary.text,
            reportCount: summary.count,
            openForMs: deps.batchDelayMs,
            firstSeenAt: b.firstSeenAt,
            lastSeenAt: b.lastSeenAt,
            reportIds: b.members.map((m) => m.report.id),
          },
        };
      });
  }
}

/** Each report, oldest first, joins the best open batch (stored or started by an earlier report of the group) or starts one. */
function plan(ordered: readonly TriageAssessment[], stored: readonly OpenBatch[], windowMs: number): PlannedBatch[] {
  const open: PlannedBatch[] = stored.map((b) => ({ ...b, fresh: false, orgId: '', members: [] }));
  for (const a of ordered) {
    const at = a.report.createdAt;
    const match = findBatch({ appId: a.report.appId, fingerprint: a.fp, receivedAt: at }, open, { windowMs }) as PlannedBatch | null;
    if (match) {
      match.members.push(a);
      if (at < match.firstSeenAt) match.firstSeenAt = at;
      if (at > match.lastSeenAt) match.lastSeenAt = at;
    } else {
      open.push({
        id: newId('bat'),
        appId: a.report.appId,
        fingerprint: a.fp,
        firstSeenAt: at,
        lastSeenAt: at,
        fresh: true,
        orgId: a.report.orgId,
        members: [a],
      });
    }
  }
  return open.filter((b) => b.members.length > 0);
}

interface Pending<T> {
  value: T;
  resolve(): void;
  reject(e: unknown): void;
}

/**
 * One worker's triage: the reports of jobs claimed together are read in one query, each
 * is assessed on its own (model calls overlap), and whatever finished while the previous
 * group was being written is written as the next group. Groups are written one at a time
 * per worker, so triage holds one pool connection for writes however many jobs run.
 */
export class TriageGroups {
  private readonly loads: Array<{ id: string; resolve(r: Report | null): void; reject(e: unknown): void }> = [];
  private readonly pending: Array<Pending<TriageItem>> = [];
  private writing = false;

  constructor(
    private readonly deps: PipelineDeps,
    private readonly maxGroup = 256,
  ) {}

  /** Triages one report and closes its job with it; rejects with the error of this report alone. */
  async triage(reportId: string, jobId?: number): Promise<void> {
    const report = await this.load(reportId);
    if (!report) throw new UserzError('report_not_found', `No report ${reportId}`);
    const assessment = await assessReport(this.deps, report);
    await new Promise<void>((resolve, reject) => {
      this.pending.push({ value: { assessment, jobId }, resolve, reject });
      void this.write();
    });
    logTriaged(this.deps, assessment);
  }

  private load(id: string): Promise<Report | null> {
    return new Promise((resolve, reject) => {
      this.loads.push({ id, resolve, reject });
      // Jobs claimed together start in the same turn: one query for all of them.
      if (this.loads.length === 1) setImmediate(() => void this.fetch());
    });
  }

  private async fetch(): Promise<void> {
    const batch = this.loads.splice(0);
    try {
      const reports = await getReports(this.deps.db, [...new Set(batch.map((l) => l.id))]);
      const byId = new Map(reports.map((r) => [r.id, r]));
      for (const l of batch) l.resolve(byId.get(l.id) ?? null);
    } catch (e) {
      for (const l of batch) l.reject(e);
    }
  }

  private async write(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.pending.length > 0) {
        // Let the reports that finish in this turn join the group first: on PGlite a whole
        // transaction can complete in microtasks, between two model answers' timer callbacks,
        // which left every group at one report.
        await new Promise((resolve) => setImmediate(resolve));
        const group = this.pending.splice(0, this.maxGroup);
        try {
          await this.deps.db.transaction((tx) =>
            applyTriage(
              this.deps,
              tx,
              group.map((p) => p.value),
            ),
          );
          for (const p of group) p.resolve();
        } catch (e) {
          if (group.length === 1) {
            group[0]!.reject(e);
            continue;
          }
          // Alone, each report either commits or fails with its own error. One after the
          // other, so reports of one problem still find the batch the first of them starts.
          for (const p of group) {
            await this.deps.db
              .transaction((tx) => applyTriage(this.deps, tx, [p.value]))
              .then(
                () => p.resolve(),
                (err: unknown) => p.reject(err),
              );
          }
        }
      }
    } finally {
      this.writing = false;
    }
  }
}

export function logTriaged(deps: Pick<PipelineDeps, 'log'>, a: TriageAssessment): void {
  deps.log.info({ reportId: a.report.id, action: a.decision.action, reason: a.decision.reason, signals: a.signals.length }, 'Report triaged');
}
