import { UserzError } from '../errors.js';
import { recordAudit, setAppRetention, setOrgRetentionDays, setReportRetention, setRunRetention, type Db } from '../store/index.js';

/** The longest an org may keep blobs: ten years. */
export const MAX_RETENTION_DAYS = 3650;

/** The org's blob retention in days (default 30), audited; PUT /api/v1/retention and the console's settings. */
export async function setOrgRetention(db: Db, orgId: string, days: number, actor: string): Promise<void> {
  if (!Number.isInteger(days) || days < 1 || days > MAX_RETENTION_DAYS)
    throw new UserzError('invalid_input', `Retention must be a whole number of days from 1 to ${MAX_RETENTION_DAYS}`);
  if (!(await setOrgRetentionDays(db, orgId, days))) throw new UserzError('org_not_found', 'No such org');
  await recordAudit(db, { actor, action: 'org.retention_set', orgId, subject: orgId, data: { days } });
}

/** Whether an App's reports and runs keep their blobs past the org's retention, audited. */
export async function setAppRetained(db: Db, orgId: string, appId: string, retained: boolean, actor: string): Promise<void> {
  if (!(await setAppRetention(db, orgId, appId, retained))) throw new UserzError('app_not_found', 'No such App');
  await recordAudit(db, { actor, action: 'app.retention_set', orgId, subject: appId, data: { retained } });
}

/** Keep a report's files (true), let them expire (false) or follow its App (null), audited; the API and the report page. */
export async function setReportRetained(db: Db, orgId: string, reportId: string, retained: boolean | null, actor: string): Promise<void> {
  if (!(await setReportRetention(db, orgId, reportId, retained))) throw new UserzError('report_not_found', 'No such report');
  await recordAudit(db, { actor, action: 'report.retention_set', orgId, subject: reportId, data: { retained } });
}

/** Keep a run's log and change set (true), let them expire (false) or follow its App (null), audited; the API and the run page. */
export async function setRunRetained(db: Db, orgId: string, runId: string, retained: boolean | null, actor: string): Promise<void> {
  if (!(await setRunRetention(db, orgId, runId, retained))) throw new UserzError('run_not_found', 'No such run');
  await recordAudit(db, { actor, action: 'run.retention_set', orgId, subject: runId, data: { retained } });
}
