import type { IncomingMessage } from 'node:http';
import { UserzError } from '../errors.js';
import { bearerToken, clientIp, parseJson, readBody, sendJson, type Router } from '../http/index.js';
import type { ApiKeyVerifier, VerifiedApiKey } from '../security/index.js';
import { enqueueJob, getReportPlacement, getRunStatus, recordAudit } from '../store/index.js';
import type { PipelineDeps } from './deps.js';
import { registerReportStatusRoute } from './report-status.js';
import { getRunForBatch, transitionRun } from './runs.js';

/**
 * Maintainer decisions on held reports, with an `sk_` key of the report's org:
 *   POST /api/v1/reports/:id/approve  → its run goes needs_review → triaged and is queued
 *   POST /api/v1/reports/:id/reject   → rejected (the reporter is told), body {"reason"?}
 *   GET  /api/v1/runs/:id             → the run's state, reason, verdict and PR link
 *   GET  /api/v1/reports/:id          → the report's status (errored with its reason) and run
 */
export function registerReviewRoutes(router: Router, deps: PipelineDeps, auth: ReviewAuth): void {
  const verifyKey = (req: IncomingMessage) => auth.apiKeys.verify(bearerToken(req), clientIp(req, auth.trustProxy));
  router.add('POST', '/api/v1/reports/:id/approve', async (req, res, { params }) => {
    const run = await heldRun(deps, await verifyKey(req), req, params.id!);
    const moved = await deps.db.transaction(async (tx) => {
      const m = await transitionRun(tx, run.id, 'needs_review', 'triaged', { reason: 'approved' });
      if (m) await enqueueJob(tx, 'run', `run:${run.id}`, { runId: run.id }, { maxAttempts: 4 });
      return m;
    });
    if (!moved) throw notHeld();
    sendJson(res, 200, { runId: run.id, state: moved.state });
  });

  router.add('POST', '/api/v1/reports/:id/reject', async (req, res, { params }) => {
    const run = await heldRun(deps, await verifyKey(req), req, params.id!);
    const moved = await deps.db.transaction(async (tx) => {
      const m = await transitionRun(tx, run.id, 'needs_review', 'rejected', { reason: 'maintainer_rejected' });
      if (m) await enqueueJob(tx, 'notify', `notify:${run.id}`, { runId: run.id });
      return m;
    });
    if (!moved) throw notHeld();
    sendJson(res, 200, { runId: run.id, state: moved.state });
  });

  registerReportStatusRoute(router, deps, verifyKey);

  router.add('GET', '/api/v1/runs/:id', async (req, res, { params }) => {
    const key = await verifyKey(req);
    const run = await getRunStatus(deps.db, params.id!);
    if (!run || run.orgId !== key.orgId) throw new UserzError('run_not_found', 'No such run', { status: 404 });
    sendJson(res, 200, { id: run.id, state: run.state, reason: run.stateReason, verdict: run.verdict, prUrl: run.prUrl, reviewState: run.reviewState });
  });
}

/** How the review routes check `sk_` keys: the process's one verifier (limits, hash gate, cache). */
export interface ReviewAuth {
  apiKeys: ApiKeyVerifier;
  trustProxy: boolean;
}

async function heldRun(deps: PipelineDeps, key: VerifiedApiKey, req: IncomingMessage, reportId: string) {
  // Drain (and bound) the optional body so the connection stays usable.
  const body = await readBody(req, 4096);
  if (body.length > 0) parseJson(body);
  const report = await getReportPlacement(deps.db, reportId);
  if (!report || report.orgId !== key.orgId) throw new UserzError('report_not_found', 'No such report', { status: 404 });
  const run = report.batchId ? await getRunForBatch(deps.db, report.batchId) : null;
  if (!run || run.state !== 'needs_review') throw notHeld();
  await recordAudit(deps.db, { actor: `api_key:${key.id}`, action: 'report.review', orgId: key.orgId, subject: reportId });
  return run;
}

const notHeld = () => new UserzError('report_not_held', 'The report is not waiting for review', { status: 409 });
