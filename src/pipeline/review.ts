import { z } from 'zod';
import { RunView, runView, type ApiRoutes } from '../api/index.js';
import { UserzError } from '../errors.js';
import { getRunOfOrg } from '../store/index.js';
import { decideHeldReport, rejectReasonText } from './decide.js';
import type { PipelineDeps } from './deps.js';
import { registerReportStatusRoute } from './report-status.js';

const Decision = z.object({ runId: z.string(), state: z.string() });
const REASON_RULE = 'reason must be a string of at most 500 characters';
/** Approve takes no fields; a body, if sent, is read (bounded) and ignored. */
const ApproveBody = z.object({});
const RejectBody = z.object({ reason: z.string().max(500).nullable().optional().describe('Kept on the run for maintainers, never sent to the reporter') });

/**
 * Maintainer decisions on held reports, with an `sk_` key of the report's org (`write`):
 *   POST /api/v1/reports/:id/approve  → its run goes needs_review → triaged and is queued
 *   POST /api/v1/reports/:id/reject   → rejected (the reporter is told), body {"reason"?}: the reason
 *                                       (≤ 500 characters) is kept on the run (runs.review_note), never sent to the reporter
 *   GET  /api/v1/runs/:id             → the run: state, reason, verdict, PR link (`read`)
 *   GET  /api/v1/reports/:id          → the report's status (errored with its reason) and run (`read`)
 */
export function registerReviewRoutes(api: ApiRoutes, deps: PipelineDeps): void {
  api
    .add({
      method: 'POST',
      path: '/api/v1/reports/:id/approve',
      operationId: 'approveReport',
      tag: 'Reports',
      summary: 'Approve a held report: its run is queued',
      permission: 'decide',
      body: { schema: ApproveBody, optional: true, limit: 4096, requireJson: false, invalidCode: 'invalid_request' },
      responses: { 200: Decision },
      errors: ['report_not_found', 'report_not_held'],
    })
    .handle(async ({ principal, params }) => ({ status: 200, body: await decideHeldReport(deps, principal, params.id!, { action: 'approve' }) }));

  api
    .add({
      method: 'POST',
      path: '/api/v1/reports/:id/reject',
      operationId: 'rejectReport',
      tag: 'Reports',
      summary: 'Reject a held report: the reporter is told it was not accepted',
      permission: 'decide',
      body: { schema: RejectBody, optional: true, limit: 4096, requireJson: false, invalidCode: 'invalid_request', invalidMessage: REASON_RULE },
      responses: { 200: Decision },
      errors: ['report_not_found', 'report_not_held'],
    })
    .handle(async ({ principal, params, body }) => {
      const reason = rejectReasonText(body?.reason);
      return { status: 200, body: await decideHeldReport(deps, principal, params.id!, { action: 'reject', reason }) };
    });

  registerReportStatusRoute(api, deps);

  api
    .add({
      method: 'GET',
      path: '/api/v1/runs/:id',
      operationId: 'getRun',
      tag: 'Runs',
      summary: 'One run',
      permission: 'read',
      responses: { 200: RunView },
      errors: ['run_not_found'],
    })
    .handle(async ({ principal, params }) => {
      const run = await getRunOfOrg(deps.db, principal.orgId, params.id!);
      if (!run) throw new UserzError('run_not_found', 'No such run');
      return { status: 200, body: runView(run) };
    });
}
