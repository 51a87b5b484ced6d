import { UserzError } from '../../errors.js';
import type { Queryable } from '../../store/index.js';
import { claimWidgetSubmission, deleteUnfinishedWidgetSubmission, getWidgetSubmissionReportId, setWidgetSubmissionReport } from '../../store/index.js';

/** A widget retry's key: what the widget generates (base62/base64url), long enough not to collide. */
const KEY_SHAPE = /^[A-Za-z0-9_-]{16,64}$/;
/** A claim whose first attempt never finished (the process died) may be taken over after this long. */
const STALE_CLAIM_SECONDS = 300;

export function parseIdempotencyKey(value: string | undefined): string | null {
  if (value === undefined) return null;
  if (!KEY_SHAPE.test(value)) throw new UserzError('invalid_request', 'Idempotency-Key must be 16 to 64 letters, digits, "-" or "_"');
  return value;
}

export type Claim = { kind: 'claimed' } | { kind: 'done'; reportId: string };

/**
 * Claims `key` for a new report of the App, or says which report it already made. A claim
 * still being stored answers 409 `report_in_flight` (retryable), unless it is stale.
 */
export async function claimSubmission(db: Queryable, appId: string, key: string): Promise<Claim> {
  if (await claimWidgetSubmission(db, appId, key, STALE_CLAIM_SECONDS)) return { kind: 'claimed' };
  const reportId = await getWidgetSubmissionReportId(db, appId, key);
  if (reportId) return { kind: 'done', reportId };
  throw new UserzError('report_in_flight', 'A report with this Idempotency-Key is still being stored; retry shortly', { retryable: true });
}

export async function completeSubmission(db: Queryable, appId: string, key: string, reportId: string): Promise<void> {
  await setWidgetSubmissionReport(db, appId, key, reportId);
}

/** The first attempt failed: the next retry may claim the key again. */
export async function releaseSubmission(db: Queryable, appId: string, key: string): Promise<void> {
  await deleteUnfinishedWidgetSubmission(db, appId, key);
}
