import type { IncomingMessage } from 'node:http';
import { UserzError } from '../errors.js';
import { bearerToken, clientIp, parseJson, readBody, sendJson, type Router } from '../http/index.js';
import type { ApiKeyVerifier, VerifiedApiKey } from '../security/index.js';
import { enqueueJob, getReportPlacement, getRunStatus, recordAudit, setRunReviewNote } from '../store/index.js';
import type { PipelineDeps } from './deps.js';
import { registerReportStatusRoute } from './report-status.js';
import { getRunForBatch, transitionRun } from './runs.js';

/**
 * Maintainer decisions on held reports, with an `sk_` key of the report's org:
 *   POST /api/v1/reports/:id/approve  → its run goes needs_review → triaged and is queued
 *   POST /api/v1/reports/:id/reject   → rejected (the reporter is told), body {"reason"?}: the reason
 *                                       (≤ 500 characters) is kept on the run (runs.review_note), never sent to the reporter
 *   GET  /api/v1/runs/:id             → the run's state, reason, verdict and PR link
 *   GET  /api/v1/reports/:id          → the report's status (errored with its reason) and run
 */
export function registerReviewRoutes(router: Router, deps: PipelineDeps, auth: ReviewAuth): void {
  const verifyKey = (req: IncomingMessage) => auth.apiKeys.verify(bearerToken(req), clientIp(req, auth.trustProxy));
  router.add('POST', '/api/v1/reports/:id/approve', async (req, res, { params }) => {
    const { run } = await heldRun(deps, await verifyKey(req), req, params.id!);
    const moved = await deps.db.transaction(async (tx) => {
      const m = await transitionRun(tx, run.id, 'needs_review', 'triaged', { reason: 'approved' });
      if (m) await enqueueJob(tx, 'run', `run:${run.id}`, { runId: run.id }, { maxAttempts: 4 });
      return m;
    });
    if (!moved) throw notHeld();
    sendJson(res, 200, { runId: run.id, state: moved.state });
  });

  router.add('POST', '/api/v1/reports/:id/reject', async (req, res, { params }) => {
    const { run, note } = await heldRun(deps, await verifyKey(req), req, params.id!, { withReason: true });
    const moved = await deps.db.transaction(async (tx) => {
      const m = await transitionRun(tx, run.id, 'needs_review', 'rejected', { reason: 'maintainer_rejected' });
      if (m) {
        // The maintainer's words stay with the run; the reporter gets the fixed refusal text (notify.ts).
        if (note !== null) await setRunReviewNote(tx, run.id, note);
        await enqueueJob(tx, 'notify', `notify:${run.id}`, { runId: run.id });
      }
      return m;
    });
    if (!moved) throw notHeld();
    sendJson(res, 200, { runId: run.id, state: moved.state });
  });

  registerReportStatusRoute(router, deps, verifyKey);

  router.add('GET', '/api/v1/runs/:id', async (req, res, { params }) => {
    const key = await verifyKey(req);
    const run = await getRunStatus(deps.db, params.id!);
    if (!run || run.orgId !== key.orgId) throw new UserzError('run_not_found', 'No such run');
    sendJson(res, 200, { id: run.id, state: run.state, reason: run.stateReason, verdict: run.verdict, prUrl: run.prUrl, reviewState: run.reviewState });
  });
}

/** How the review routes check `sk_` keys: the process's one verifier (limits, hash gate, cache). */
export interface ReviewAuth {
  apiKeys: ApiKeyVerifier;
  trustProxy: boolean;
}

async function heldRun(deps: PipelineDeps, key: VerifiedApiKey, req: IncomingMessage, reportId: string, opts: { withReason?: boolean } = {}) {
  // Drain (and bound) the optional body so the connection stays usable.
  const raw = await readBody(req, 4096);
  const body: unknown = raw.length > 0 ? parseJson(raw) : undefined;
  const note = opts.withReason ? rejectReason(body) : null;
  const report = await getReportPlacement(deps.db, reportId);
  if (!report || report.orgId !== key.orgId) throw new UserzError('report_not_found', 'No such report');
  const run = report.batchId ? await getRunForBatch(deps.db, report.batchId) : null;
  if (!run || run.state !== 'needs_review') throw notHeld();
  await recordAudit(deps.db, { actor: `api_key:${key.id}`, action: 'report.review', orgId: key.orgId, subject: reportId });
  return { run, note };
}

/** The optional `reason` of a reject body: a string of at most 500 characters; anything else is refused. */
function rejectReason(body: unknown): string | null {
  if (body === undefined || body === null || typeof body !== 'object' || !('reason' in body) || body.reason === undefined) return null;
  const reason = body.reason;
  if (typeof reason !== 'string' || reason.length > 500) {
    throw new UserzError('invalid_request', 'reason must be a string of at most 500 characters');
  }
  return reason.trim() || null;
}

const notHeld = () => new UserzError('report_not_held', 'The report is not waiting for review');
