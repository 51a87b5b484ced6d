import type { IncomingMessage } from 'node:http';
import { UserzError } from '../errors.js';
import { sendJson, type Router } from '../http/index.js';
import type { VerifiedApiKey } from '../security/index.js';
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
    const [row] = await deps.db.query<{
      id: string;
      org_id: string;
      app_id: string;
      source: string;
      status: string;
      status_reason: string | null;
      created_at: Date;
      run_id: string | null;
      run_state: string | null;
    }>(
      `SELECT r.id, r.org_id, r.app_id, r.source, r.status, r.status_reason, r.created_at, ru.id AS run_id, ru.state AS run_state
         FROM reports r LEFT JOIN runs ru ON ru.batch_id = r.batch_id
        WHERE r.id = $1`,
      [params.id],
    );
    if (!row || row.org_id !== key.orgId) throw new UserzError('report_not_found', 'No such report', { status: 404 });
    sendJson(res, 200, {
      id: row.id,
      appId: row.app_id,
      source: row.source,
      status: row.status,
      reason: row.status_reason,
      createdAt: new Date(row.created_at).toISOString(),
      run: row.run_id ? { id: row.run_id, state: row.run_state } : null,
    });
  });
}
