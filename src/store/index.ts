import type { Config } from '../config/index.js';
import { createCache, type Cache } from './cache.js';
import type { Db } from './db/interface.js';
import { openPglite } from './db/pglite.js';
import { openPostgres } from './db/postgres.js';
import { LocalBlobStore } from './blobs/local.js';
import type { BlobStore } from './blobs/interface.js';
import { migrate } from './migrate.js';

export type { Db, Queryable, Row } from './db/interface.js';
export type { BlobStore } from './blobs/interface.js';
export type { Cache } from './cache.js';
export { createCache } from './cache.js';
export { LocalBlobStore } from './blobs/local.js';
export { openPglite } from './db/pglite.js';
export { openPostgres } from './db/postgres.js';
export { kyselyPool } from './db/auth-pool.js';
export {
  acceptInvite,
  acceptOperatorInvites,
  addMember,
  anyAuthUser,
  anyOperatorInvite,
  anyOrgMember,
  changeMemberRole,
  deleteUserSession,
  findVerifiedUserId,
  getInviteByTokenHash,
  insertInvite,
  listMembers,
  listMemberships,
  listPendingInvites,
  listUserSessions,
  OPERATOR_INVITER,
  removeMember,
  revokeInvite,
} from './members.js';
export { migrate, splitStatements } from './migrate.js';
export { newId, randomBase62 } from './ids.js';
export { recordAudit, listAudit, listAuditEvents, getAuditEvent, type AuditFilter, type StoredAuditEvent } from './audit.js';
export * from './secrets.js';
export * from './api-keys.js';
export * from './keyset.js';
export * from './run-list.js';
export { getRunChecks, saveRunChecks, type ChecksStatus, type CommandResult, type Reproduction, type RunChecks } from './run-checks.js';
export { listHeldReports, listReports, previousReportsCursor, type HeldReport, type ReportListFilter, type ReportListItem } from './report-list.js';
export { getReportDetail, listBatchSiblings, type ReportDetail } from './report-detail.js';
export { getRunDetail, type RunDetail } from './run-detail.js';
export * from './batch-list.js';
export * from './repo-list.js';
export { insertOrg, listOrgs, resolveOrg } from './orgs.js';
export * from './repos.js';
export * from './installations.js';
export { recordDelivery } from './deliveries.js';
export { claimWidgetSubmission, deleteUnfinishedWidgetSubmission, getWidgetSubmissionReportId, setWidgetSubmissionReport } from './widget-submissions.js';
export { consumeChatLinkCode, insertChatLinkCode, linkChatWorkspace, type ChatProvider } from './chat-links.js';
export { enqueueJob, enqueueJobs, claimJobs, renewLease, completeJob, failJob, deferJob, queueStats, backoffMs, type Job, type JobKind } from './jobs.js';
export {
  ensureLifecycleJob,
  getBlobRow,
  getReportAttachments,
  getRetentionSettings,
  listBlobsOfReport,
  listBlobsOfRun,
  listDueBlobs,
  markBlobsExpired,
  registerBlobs,
  rescheduleJob,
  setAppRetention,
  setOrgRetentionDays,
  setReportRetention,
  setRunRetention,
  type BlobRow,
} from './blob-lifecycle.js';
export {
  executeErasure,
  exportOrgRows,
  listBatchMembers,
  planErasure,
  rewriteBatchSummary,
  type ErasureCacheSubjects,
  type ErasureCounts,
  type ErasureSubject,
} from './erasure.js';

export interface Store {
  db: Db;
  cache: Cache;
  blobs: BlobStore;
  close(): Promise<void>;
}

/** Opens the database (and migrates it), the cache and the blob store named by config. */
export async function openStore(config: Pick<Config, 'database' | 'cache' | 'blobDir'> & Partial<Pick<Config, 'blobS3'>>): Promise<Store> {
  const db = config.database.kind === 'postgres' ? await openPostgres({ url: config.database.url }) : await openPglite(config.database.dir);
  try {
    await migrate(db);
  } catch (e) {
    await db.close().catch(() => undefined);
    throw e;
  }
  const cache = createCache(config.cache);
  // The AWS SDK is loaded only when a bucket is configured: the embedded default starts without it.
  const blobs: BlobStore & { close?(): void } = config.blobS3
    ? new (await import('./blobs/s3.js')).S3BlobStore(config.blobS3)
    : new LocalBlobStore(config.blobDir);
  return {
    db,
    cache,
    blobs,
    async close() {
      await cache.close().catch(() => undefined);
      blobs.close?.();
      await db.close();
    },
  };
}
export * from './apps.js';
export * from './reports.js';
export * from './batches.js';
export * from './runs.js';
export * from './triage-writes.js';
export * from './spend.js';
export * from './webhooks.js';
export { listEgressConnections, recordEgressConnections, type EgressConnection } from './egress.js';
export { claimReporterNotice, markReporterNoticeSent, reviewOutcomeOfReport, type ReviewOutcome } from './reporter-notices.js';
export {
  countQueuedFollowUps,
  findRunByPullRequest,
  getProgressComment,
  getQueuedFollowUp,
  hasEarlierOpenFollowUp,
  insertFollowUpRequest,
  listFollowUpRequests,
  lockFollowUps,
  saveProgressComment,
  setFollowUpOutcome,
  type FollowUpDecision,
  type QueuedFollowUp,
} from './followups.js';
