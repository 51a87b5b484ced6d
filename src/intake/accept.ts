import { ReportContent } from '../triage/index.js';
import { UserzError } from '../errors.js';
import type { BlobStore, Db } from '../store/index.js';
import { enqueueJobs, newId, randomBase62 } from '../store/index.js';
import { insertReports, type NewReport, type Report, type ReplyTo, type ReportSource, type StoredAttachment } from '../store/index.js';
import type { App } from '../store/index.js';
import { emitWebhookEvents } from '../webhooks/index.js';
import type { ParsedAttachment } from './report-input.js';

export interface AcceptedReport {
  report: Report;
  /** Bearer token the widget polls its status with; returned once. */
  statusToken: string;
}

/**
 * Stores one report and enqueues its triage job in one transaction. Attachments are
 * written to blobs first (a blob write inside a DB transaction would hold it open) and
 * deleted again when the transaction fails, so nothing is half-stored.
 */
export async function acceptReport(
  deps: { db: Db; blobs: BlobStore; metrics?: { reportAccepted(source: string): void } },
  input: {
    app: App;
    source: ReportSource;
    content: ReportContent;
    replyTo: ReplyTo | null;
    reporterKey: string | null;
    attachments?: ParsedAttachment[];
    actor: string;
  },
): Promise<AcceptedReport> {
  // What is stored is what triage reads: a body that does not parse as ReportContent (a
  // repeated form field, an array where an object belongs) is refused here, not acknowledged
  // and then failed by triage.
  const parsed = ReportContent.safeParse(input.content);
  if (!parsed.success) throw new UserzError('invalid_report', 'The report does not have the expected shape');
  const reportId = newId('rep');
  const statusToken = `rst_${randomBase62(32)}`;
  const written: StoredAttachment[] = [];
  try {
    for (const a of input.attachments ?? []) {
      const id = newId('att');
      const blobKey = `reports/${reportId}/${id}`;
      const { size } = await deps.blobs.put(blobKey, a.data, { contentType: a.contentType });
      written.push({ id, name: a.name, contentType: a.contentType, size, blobKey });
    }
    const report = await writerFor(deps.db).write(
      {
        id: reportId,
        orgId: input.app.orgId,
        appId: input.app.id,
        source: input.source,
        content: parsed.data as Record<string, unknown>,
        replyTo: input.replyTo,
        reporterKey: input.reporterKey,
        attachments: written,
        statusToken,
      },
      input.actor,
    );
    deps.metrics?.reportAccepted(input.source);
    return { report, statusToken };
  } catch (e) {
    await Promise.all(written.map((w) => deps.blobs.delete(w.blobKey).catch(() => undefined)));
    throw e;
  }
}

const MAX_BATCH = 100;

interface Pending {
  input: NewReport;
  actor: string;
  resolve(report: Report): void;
  reject(e: unknown): void;
}

/**
 * Group commit: reports that arrive while a write is in flight are stored together in
 * the next transaction (each report row and its triage job still share a transaction,
 * so nothing is half-stored). The embedded PGlite runs one statement at a time, and
 * per-transaction overhead, not the rows, is what limits a busy intake. If a batch fails,
 * each report is retried alone so one bad row cannot fail its neighbours.
 */
class ReportWriter {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(private readonly db: Db) {}

  write(input: NewReport, actor: string): Promise<Report> {
    return new Promise((resolve, reject) => {
      this.queue.push({ input, actor, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        // Let requests parsed in the same turn of the event loop join this batch.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      try {
        const reports = await this.store(batch);
        batch.forEach((p, i) => p.resolve(reports[i]!));
      } catch {
        for (const p of batch) {
          await this.store([p]).then(
            ([r]) => p.resolve(r!),
            (e: unknown) => p.reject(e),
          );
        }
      }
    }
    this.flushing = false;
  }

  private store(batch: Pending[]): Promise<Report[]> {
    return this.db.transaction(async (tx) => {
      const byActor = new Map<string, NewReport[]>();
      for (const p of batch) byActor.set(p.actor, [...(byActor.get(p.actor) ?? []), p.input]);
      const stored = new Map<string, Report>();
      for (const [actor, inputs] of byActor) for (const r of await insertReports(tx, inputs, actor)) stored.set(r.id, r);
      await enqueueJobs(
        tx,
        'triage',
        batch.map((p) => ({ key: `triage:${p.input.id}`, payload: { reportId: p.input.id } })),
      );
      await emitWebhookEvents(
        tx,
        batch.map((p) => ({ orgId: p.input.orgId, type: 'report.received', data: { reportId: p.input.id, appId: p.input.appId, source: p.input.source } })),
      );
      return batch.map((p) => stored.get(p.input.id)!);
    });
  }
}

const writers = new WeakMap<Db, ReportWriter>();

function writerFor(db: Db): ReportWriter {
  let w = writers.get(db);
  if (!w) {
    w = new ReportWriter(db);
    writers.set(db, w);
  }
  return w;
}
