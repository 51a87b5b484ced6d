import { UserzError } from '../errors.js';
import { readBatchTenancy, type BatchTenancy, type Queryable, type Repo } from '../store/index.js';
import type { Run } from './runs.js';

export const TENANT_MISMATCH = 'tenant_mismatch';

/**
 * The tenancy invariant, checked right before a run mints a forge credential (GitHub
 * installation token, GitLab project token): every report of the batch, the App and the
 * repo belong to the run's org, read fresh from the database (not from the run row, which
 * was written at triage time). Anything else ends the run `errored` / `tenant_mismatch`
 * with nothing minted. `link` names the first broken link, for the log and the audit.
 */
export async function assertSameTenant(db: Queryable, run: Run, repo: Repo): Promise<void> {
  const row = await readBatchTenancy(db, { orgId: run.orgId, appId: run.appId, batchId: run.batchId });
  const link = brokenLink(run, repo, row);
  if (link) {
    throw new UserzError(TENANT_MISMATCH, `The run's reports, App and repository do not belong to one org (${link})`, { details: { link } });
  }
}

function brokenLink(run: Run, repo: Repo, row: BatchTenancy): string | null {
  if (row.appOrgId === null || row.appOrgId !== run.orgId) return 'app';
  if (row.batchAppId !== run.appId) return 'batch';
  if (row.reports === 0 || row.foreignReports > 0) return 'report';
  if (repo.orgId === null || repo.orgId !== row.appOrgId) return 'repo';
  return null;
}
