import { z } from 'zod';
import type { ApiRoutes } from '../api/index.js';
import { UserzError } from '../errors.js';
import { getReportStatus } from '../store/index.js';
import type { PipelineDeps } from './deps.js';

const ReportStatus = z.object({
  id: z.string(),
  appId: z.string(),
  source: z.string(),
  status: z.string().describe('received | triaged | needs_review | rejected | errored'),
  reason: z.string().nullable().describe('Why, when errored (e.g. report_unreadable)'),
  createdAt: z.iso.datetime(),
  run: z.object({ id: z.string(), state: z.string() }).nullable(),
});

/**
 * GET /api/v1/reports/:id with an `sk_` key of the report's org: where the report is in
 * the pipeline. `status` is received | triaged | needs_review | rejected | errored, with
 * `reason` saying why when it is errored (e.g. `report_unreadable`), and its run when
 * triage made one. Ids and states only, never the report's text.
 */
export function registerReportStatusRoute(api: ApiRoutes, deps: Pick<PipelineDeps, 'db'>): void {
  api
    .add({
      method: 'GET',
      path: '/api/v1/reports/:id',
      operationId: 'getReportStatus',
      tag: 'Reports',
      summary: "A report's place in the pipeline and its run",
      permission: 'read',
      responses: { 200: ReportStatus },
      errors: ['report_not_found'],
    })
    .handle(async ({ principal, params }) => {
      const report = await getReportStatus(deps.db, params.id!);
      if (!report || report.orgId !== principal.orgId) throw new UserzError('report_not_found', 'No such report');
      return {
        status: 200,
        body: {
          id: report.id,
          appId: report.appId,
          source: report.source,
          status: report.status,
          reason: report.statusReason,
          createdAt: report.createdAt.toISOString(),
          run: report.run,
        },
      };
    });
}
