import { enqueueJob } from '../pipeline/queue.js';
import type { ReportContent } from '../triage/report-content.js';
import type { BlobStore, Db } from '../store/index.js';
import { newId, randomBase62 } from '../store/index.js';
import { insertReport, type Report, type ReplyTo, type ReportSource, type StoredAttachment } from '../store/reports.js';
import type { App } from '../store/apps.js';
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
  deps: { db: Db; blobs: BlobStore },
  input: { app: App; source: ReportSource; content: ReportContent; replyTo: ReplyTo | null; reporterKey: string | null; attachments?: ParsedAttachment[]; actor: string },
): Promise<AcceptedReport> {
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
    const report = await deps.db.transaction(async (tx) => {
      const stored = await insertReport(
        tx,
        {
          id: reportId,
          orgId: input.app.orgId,
          appId: input.app.id,
          source: input.source,
          content: input.content as Record<string, unknown>,
          replyTo: input.replyTo,
          reporterKey: input.reporterKey,
          attachments: written,
          statusToken,
        },
        input.actor,
      );
      await enqueueJob(tx, 'triage', `triage:${reportId}`, { reportId });
      return stored;
    });
    return { report, statusToken };
  } catch (e) {
    await Promise.all(written.map((w) => deps.blobs.delete(w.blobKey).catch(() => undefined)));
    throw e;
  }
}
