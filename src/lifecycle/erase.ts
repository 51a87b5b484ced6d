import { fingerprint, ReportContent, summarizeBatch } from '../triage/index.js';
import {
  executeErasure,
  listBatchMembers,
  planErasure,
  recordAudit,
  rewriteBatchSummary,
  type BlobStore,
  type Db,
  type ErasureCounts,
  type ErasureSubject,
} from '../store/index.js';

export interface ErasureResult {
  subject: 'org' | 'app' | 'reporter';
  counts: ErasureCounts & { blobs: number; batchesResummarised: number };
}

/** What a deletion would remove, for the confirmation prompt: counts only. */
export async function previewErasure(db: Db, subject: ErasureSubject): Promise<Record<string, number> | null> {
  const plan = await planErasure(db, subject);
  if (!plan.found) return null;
  return {
    orgs: plan.orgIds.length,
    apps: plan.appIds.length,
    reports: plan.reportIds.length,
    runs: plan.runIds.length,
    batchesResummarised: plan.mixedBatchIds.length,
    blobs: plan.blobKeys.length,
  };
}

/** Removes the cache entries keyed by what an erasure deleted (intake's forgetErasedCacheEntries, wired in main.ts). */
export type ForgetErasedCache = (subjects: ErasurePlan['cacheSubjects']) => Promise<unknown>;

type ErasurePlan = Awaited<ReturnType<typeof planErasure>>;

/**
 * Deletion on request: every row and blob of an org, an App or one reporter. Blobs go
 * first (a blob store is not transactional), then every row in one transaction, which also
 * writes the one audit event: who asked, what kind of subject, and counts. The event holds
 * no identifier of the reporter (an email or user id is personal data); for an org or App
 * it names the id, which is ours, not personal. Re-running after a failure finishes the job:
 * deleting a missing blob or row is not an error. With `forgetCache`, the rate-limit entries
 * keyed by what went are removed too (intake/erase-cache.ts).
 */
export async function eraseSubject(
  deps: { db: Db; blobs: BlobStore; forgetCache?: ForgetErasedCache },
  subject: ErasureSubject,
  actor: string,
): Promise<ErasureResult> {
  const plan = await planErasure(deps.db, subject);
  let blobs = 0;
  for (const key of plan.blobKeys) {
    await deps.blobs.delete(key);
    blobs++;
  }
  for (const prefix of plan.blobPrefixes) blobs += await deps.blobs.deletePrefix(prefix);

  const counts = await deps.db.transaction(async (tx) => {
    const c = await executeErasure(tx, plan);
    for (const batchId of plan.mixedBatchIds) await resummarise(tx, batchId);
    await recordAudit(tx, {
      actor,
      action: 'data.deleted',
      orgId: subject.kind === 'org' ? null : plan.ownerOrgId,
      subject: subject.kind === 'org' ? subject.orgId : subject.kind === 'app' ? subject.appId : null,
      data: { subjectKind: subject.kind, ...c, blobs, batchesResummarised: plan.mixedBatchIds.length },
    });
    return c;
  });
  // After the rows: a bucket removed earlier could be made again by a request of the subject in between.
  if (deps.forgetCache) await deps.forgetCache(plan.cacheSubjects);
  return { subject: subject.kind, counts: { ...counts, blobs, batchesResummarised: plan.mixedBatchIds.length } };
}

async function resummarise(tx: Parameters<Parameters<Db['transaction']>[0]>[0], batchId: string): Promise<void> {
  const members = await listBatchMembers(tx, batchId);
  if (members.length === 0) return;
  const contents = members.map((m) => ({ content: ReportContent.parse(m.content), receivedAt: m.createdAt }));
  // The fingerprint is the founding report's: it goes with that report, to the first that stays.
  const print = fingerprint(contents[0]!.content);
  await rewriteBatchSummary(tx, batchId, summarizeBatch(contents), { fingerprint: print.key, signature: print });
}
