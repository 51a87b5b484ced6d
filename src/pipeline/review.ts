import type { IncomingMessage } from 'node:http';
import { UserzError } from '../errors.js';
import { bearerToken, clientIp, parseJson, readBody, sendJson, type Router } from '../http/index.js';
import type { ApiKeyVerifier, VerifiedApiKey } from '../security/index.js';
import { getRunStatus } from '../store/index.js';
import { keyPrincipal } from '../tenant/index.js';
import { decideHeldReport, rejectReasonText } from './decide.js';
import type { PipelineDeps } from './deps.js';
import { registerReportStatusRoute } from './report-status.js';

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
    const key = await verifyKey(req);
    await readOptionalBody(req);
    sendJson(res, 200, await decideHeldReport(deps, principalOfKey(key), params.id!, { action: 'approve' }));
  });

  router.add('POST', '/api/v1/reports/:id/reject', async (req, res, { params }) => {
    const key = await verifyKey(req);
    const body = await readOptionalBody(req);
    const reason = rejectReasonText(typeof body === 'object' && body !== null && 'reason' in body ? body.reason : undefined);
    sendJson(res, 200, await decideHeldReport(deps, principalOfKey(key), params.id!, { action: 'reject', reason }));
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

/** Drains (and bounds) the optional JSON body so the connection stays usable. */
async function readOptionalBody(req: IncomingMessage): Promise<unknown> {
  const raw = await readBody(req, 4096);
  return raw.length > 0 ? parseJson(raw) : undefined;
}

/** An `sk_` key as a principal: deciding needs the `write` scope. */
function principalOfKey(key: VerifiedApiKey) {
  return keyPrincipal(key);
}
