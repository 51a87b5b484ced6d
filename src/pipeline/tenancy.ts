import { UserzError } from '../errors.js';
import type { Queryable, Repo } from '../store/index.js';
import type { Run } from './runs.js';

export const TENANT_MISMATCH = 'tenant_mismatch';

type TenancyRow = {
  app_org: string | null;
  batch_app: string | null;
  reports: number;
  foreign_reports: number;
};

/**
 * The tenancy invariant, checked right before a run mints a forge credential (GitHub
 * installation token, GitLab project token): every report of the batch, the App and the
 * repo belong to the run's org, read fresh from the database (not from the run row, which
 * was written at triage time). Anything else ends the run `errored` / `tenant_mismatch`
 * with nothing minted. `link` names the first broken link, for the log and the audit.
 */
export async function assertSameTenant(db: Queryable, run: Run, repo: Repo): Promise<void> {
  const [row] = await db.query<TenancyRow>(
    `SELECT a.org_id AS app_org, b.app_id AS batch_app,
            (SELECT count(*)::int FROM reports WHERE batch_id = $3) AS reports,
            (SELECT count(*)::int FROM reports WHERE batch_id = $3 AND (org_id <> $1 OR app_id <> $2)) AS foreign_reports
       FROM (SELECT 1) AS one
       LEFT JOIN apps a ON a.id = $2
       LEFT JOIN batches b ON b.id = $3`,
    [run.orgId, run.appId, run.batchId],
  );
  const link = brokenLink(run, repo, row!);
  if (link) {
    throw new UserzError(TENANT_MISMATCH, `The run's reports, App and repository do not belong to one org (${link})`, { details: { link } });
  }
}

function brokenLink(run: Run, repo: Repo, row: TenancyRow): string | null {
  if (row.app_org === null || row.app_org !== run.orgId) return 'app';
  if (row.batch_app !== run.appId) return 'batch';
  if (Number(row.reports) === 0 || Number(row.foreign_reports) > 0) return 'report';
  if (repo.orgId === null || repo.orgId !== row.app_org) return 'repo';
  return null;
}
