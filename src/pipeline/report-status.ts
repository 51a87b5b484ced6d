import type { IncomingMessage } from 'node:http';
import { UserzError } from '../errors.js';
import { sendJson, type Router } from '../http/index.js';
import type { VerifiedApiKey } from '../security/index.js';
import { getReportStatus } from '../store/index.js';
import type { PipelineDeps } from './deps.js';

/**
 * GET /api/v1/reports/:id with an `sk_` key of the report's org: where the report is in
 * the pipeline. `status` is received | triaged | needs_review | rejected | errored, with
 * `reason` saying why when it is errored (e.g. `report_unreadable`), and its run when
 * triage made one. Ids and states only, never the report's text.
 */
export function registerReportStatusRoute(router: Router, deps: Pick<PipelineDeps, 'db'>, verifyKey: (req: IncomingMessage) => Promise<VerifiedApiKey>): void {
  router.add('GET', '/api/v1/reports/:id', async (req, res, { params }) => {
    const key = await verifyKey(req);
    const report = await getReportStatus(deps.db, params.id!);
    if (!report || report.orgId !== key.orgId) throw new UserzError('report_not_found', 'No such report');
    sendJson(res, 200, {
      id: report.id,
      appId: report.appId,
      source: report.source,
      status: report.status,
      reason: report.statusReason,
      createdAt: report.createdAt.toISOString(),
      run: report.run,
    });
  });
}
