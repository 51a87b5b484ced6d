import type { Queryable } from './db/interface.js';

/**
 * One run as the console's run page shows it, read only within the asking org: state and
 * reason, the guardrail verdict, the PR and its review state, usage, the blobs of its log
 * and change set, and the reports it serves. Null when there is no such run in the org.
 */
export interface RunDetail {
  id: string;
  appId: string;
  appName: string;
  batchId: string;
  repo: { id: string; fullName: string; forge: string } | null;
  state: string;
  stateReason: string | null;
  verdict: unknown;
  baseCommit: string | null;
  branch: string | null;
  prUrl: string | null;
  prNumber: number | null;
  reviewState: string | null;
  reviewNote: string | null;
  usage: Record<string, unknown> | null;
  logBlob: string | null;
  changesetBlob: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  reports: Array<{ id: string; createdAt: Date; excerpt: string }>;
  /** Keep its log and change set (true), let them expire (false), or follow the App (null): the App's default is appRetained. */
  retained: boolean | null;
  appRetained: boolean;
}

const MAX_LISTED_REPORTS = 50;

export async function getRunDetail(db: Queryable, orgId: string, runId: string): Promise<RunDetail | null> {
  const [r] = await db.query<{
    id: string;
    app_id: string;
    app_name: string;
    batch_id: string;
    repo_id: string | null;
    repo_name: string | null;
    repo_forge: string | null;
    state: string;
    state_reason: string | null;
    verdict: unknown;
    base_commit: string | null;
    branch: string | null;
    pr_url: string | null;
    pr_number: number | null;
    review_state: string | null;
    review_note: string | null;
    usage: unknown;
    log_blob: string | null;
    changeset_blob: string | null;
    created_at: Date;
    started_at: Date | null;
    finished_at: Date | null;
    retained: boolean | null;
    app_retained: boolean;
  }>(
    `SELECT ru.id, ru.app_id, a.name AS app_name, ru.batch_id, ru.repo_id, re.full_name AS repo_name, re.forge AS repo_forge,
            ru.state, ru.state_reason, ru.verdict, ru.base_commit, ru.branch, ru.pr_url, ru.pr_number, ru.review_state, ru.review_note,
            ru.usage, ru.log_blob, ru.changeset_blob, ru.created_at, ru.started_at, ru.finished_at,
            ru.retained, a.retain_blobs AS app_retained
       FROM runs ru
       JOIN apps a ON a.id = ru.app_id
       LEFT JOIN repos re ON re.id = ru.repo_id
      WHERE ru.id = $1 AND ru.org_id = $2`,
    [runId, orgId],
  );
  if (!r) return null;
  const reports = await db.query<{ id: string; created_at: Date; excerpt: string | null }>(
    `SELECT id, created_at, left(content->>'text', 160) AS excerpt FROM reports WHERE batch_id = $1 AND org_id = $2 ORDER BY created_at, id LIMIT $3`,
    [r.batch_id, orgId, MAX_LISTED_REPORTS],
  );
  return {
    id: r.id,
    appId: r.app_id,
    appName: r.app_name,
    batchId: r.batch_id,
    repo: r.repo_id && r.repo_name ? { id: r.repo_id, fullName: r.repo_name, forge: r.repo_forge ?? '' } : null,
    state: r.state,
    stateReason: r.state_reason,
    verdict: r.verdict,
    baseCommit: r.base_commit,
    branch: r.branch,
    prUrl: r.pr_url,
    prNumber: r.pr_number,
    reviewState: r.review_state,
    reviewNote: r.review_note,
    usage: typeof r.usage === 'object' && r.usage !== null ? (r.usage as Record<string, unknown>) : null,
    logBlob: r.log_blob,
    changesetBlob: r.changeset_blob,
    createdAt: new Date(r.created_at),
    startedAt: r.started_at ? new Date(r.started_at) : null,
    finishedAt: r.finished_at ? new Date(r.finished_at) : null,
    reports: reports.map((x) => ({ id: x.id, createdAt: new Date(x.created_at), excerpt: x.excerpt ?? '' })),
    retained: r.retained,
    appRetained: r.app_retained,
  };
}
