import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import { listDueBlobs, markBlobsExpired, registerBlobs, rescheduleJob, type BlobStore, type Db } from '../store/index.js';

export interface LifecycleDeps {
  db: Db;
  blobs: BlobStore;
  log: Logger;
  /** The clock the retention is measured against (tests move it). */
  now?: () => Date;
}

export interface ExpiryPass {
  registered: number;
  expired: number;
  /** True when the batch was full: more may be due at once. */
  more: boolean;
}

/** Blobs deleted per pass: a pass is bounded, so a backlog never holds the job (or its lease) for long. */
export const EXPIRY_BATCH = 200;
/** How often the job looks again when nothing more is due. */
export const EXPIRY_INTERVAL_MS = 60 * 60_000;
const RETRY_AFTER_FAILURE_MS = 10 * 60_000;

/**
 * One pass of blob expiry: register blobs that have no row yet (a repair path for blobs
 * written before their writes registered rows; see insertBlobRows), then delete up to `batch`
 * due blobs (older than the org's retention, report or run not retained) and mark their
 * rows expired. Each blob is deleted before its row is marked, so a pass cut short by a
 * crash leaves only unmarked rows whose deletion the next pass repeats (deleting a missing
 * blob is not an error): idempotent and resumable.
 */
export async function expireBlobs(deps: LifecycleDeps, opts: { batch?: number } = {}): Promise<ExpiryPass> {
  const now = deps.now?.() ?? new Date();
  const batch = opts.batch ?? EXPIRY_BATCH;
  const registered = await registerBlobs(deps.db);
  const due = await listDueBlobs(deps.db, now, batch);
  const deleted: string[] = [];
  let failure: unknown;
  for (const blob of due) {
    try {
      await deps.blobs.delete(blob.key);
      deleted.push(blob.key);
    } catch (e) {
      failure = e;
      break; // the store is failing: mark what is gone and let the job retry later
    }
  }
  const expired = await markBlobsExpired(deps.db, deleted, now);
  if (expired > 0) deps.log.info({ expired, registered }, 'Expired blobs past retention');
  if (failure) throw failure;
  return { registered, expired, more: due.length === batch };
}

/**
 * The recurring job (kind 'lifecycle'): one pass, then the same job row is due again at
 * once when the batch was full, else after EXPIRY_INTERVAL_MS. It never ends: a failed
 * pass is logged, kept as the job's last_error and tried again later.
 */
export async function runLifecycleJob(deps: LifecycleDeps, jobId: number): Promise<ExpiryPass | null> {
  const now = deps.now?.() ?? new Date();
  try {
    const pass = await expireBlobs(deps);
    await rescheduleJob(deps.db, jobId, new Date(now.getTime() + (pass.more ? 0 : EXPIRY_INTERVAL_MS)));
    return pass;
  } catch (e) {
    deps.log.warn({ err: errorMessage(e) }, 'Blob expiry pass failed; trying again later');
    await rescheduleJob(deps.db, jobId, new Date(now.getTime() + RETRY_AFTER_FAILURE_MS), errorMessage(e));
    return null;
  }
}
