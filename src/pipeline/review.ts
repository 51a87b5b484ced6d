import type { IncomingMessage } from 'node:http';
import { UserzError } from '../errors.js';
import { parseJson, readBody, sendJson, type Router } from '../http/index.js';
import type { ApiKeyVerifier, VerifiedApiKey } from '../security/index.js';
import { clientIp } from '../intake/index.js';
import { enqueueJob, recordAudit } from '../store/index.js';
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
  const verifyKey = (req: IncomingMessage) => auth.apiKeys.verify(bearer(req), clientIp(req, auth.trustProxy));
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
    const [row] = await deps.db.query<{
      id: string;
      org_id: string;
      state: string;
      state_reason: string | null;
      verdict: unknown;
      pr_url: string | null;
      review_state: string | null;
    }>('SELECT id, org_id, state, state_reason, verdict, pr_url, review_state FROM runs WHERE id = $1', [params.id]);
    if (!row || row.org_id !== key.orgId) throw new UserzError('run_not_found', 'No such run', { status: 404 });
    sendJson(res, 200, { id: row.id, state: row.state, reason: row.state_reason, verdict: row.verdict, prUrl: row.pr_url, reviewState: row.review_state });
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
  const [report] = await deps.db.query<{ org_id: string; batch_id: string | null }>('SELECT org_id, batch_id FROM reports WHERE id = $1', [reportId]);
  if (!report || report.org_id !== key.orgId) throw new UserzError('report_not_found', 'No such report', { status: 404 });
  const run = report.batch_id ? await getRunForBatch(deps.db, report.batch_id) : null;
  if (!run || run.state !== 'needs_review') throw notHeld();
  await recordAudit(deps.db, { actor: `api_key:${key.id}`, action: 'report.review', orgId: key.orgId, subject: reportId });
  return run;
}

const notHeld = () => new UserzError('report_not_held', 'The report is not waiting for review', { status: 409 });
const bearer = (req: IncomingMessage) => /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
