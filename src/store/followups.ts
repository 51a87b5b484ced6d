import { randomUUID } from 'node:crypto';
import type { Queryable } from './db/interface.js';
import type { Run } from './runs.js';

/**
 * Follow-ups from review (issue 18): every review event that asked Userz to continue a
 * draft, with what was decided, and the one progress comment Userz keeps on that draft.
 */
export type FollowUpDecision = 'queued' | 'limit_reached' | 'ignored_bot' | 'ignored_not_writer';

export interface FollowUpRequestInput {
  orgId: string;
  sourceRunId: string;
  forge: 'github' | 'gitlab';
  deliveryId: string;
  trigger: string;
  author: string;
  permission: string | null;
  decision: FollowUpDecision;
  /** The maintainer's text (queued requests only); it reaches the agent as maintainer feedback. */
  feedback: string | null;
}

/** Serialises the decisions on one draft (the count of queued follow-ups) for the rest of the transaction. */
export async function lockFollowUps(tx: Queryable, sourceRunId: string): Promise<void> {
  await tx.query('SELECT id FROM runs WHERE id = $1 FOR UPDATE', [sourceRunId]);
}

export async function countQueuedFollowUps(db: Queryable, sourceRunId: string): Promise<number> {
  const rows = await db.query<{ n: string | number }>(`SELECT count(*) AS n FROM followup_requests WHERE source_run_id = $1 AND decision = 'queued'`, [
    sourceRunId,
  ]);
  return Number(rows[0]?.n ?? 0);
}

/** Inserts the request and returns its id; null when this delivery was already recorded (a redelivered webhook). */
export async function insertFollowUpRequest(tx: Queryable, input: FollowUpRequestInput): Promise<string | null> {
  const rows = await tx.query(
    `INSERT INTO followup_requests (id, org_id, source_run_id, forge, delivery_id, trigger, author, permission, decision, feedback)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (forge, delivery_id) DO NOTHING RETURNING id`,
    [
      randomUUID(),
      input.orgId,
      input.sourceRunId,
      input.forge,
      input.deliveryId.slice(0, 200),
      input.trigger,
      input.author.slice(0, 200),
      input.permission,
      input.decision,
      input.feedback,
    ],
  );
  return (rows[0] as { id: string } | undefined)?.id ?? null;
}

export interface StoredFollowUpRequest {
  trigger: string;
  author: string;
  permission: string | null;
  decision: FollowUpDecision;
  feedback: string | null;
  outcome: FollowUpRunOutcome | null;
  outcomeReason: string | null;
  commitSha: string | null;
  createdAt: Date;
}

export async function listFollowUpRequests(db: Queryable, orgId: string, sourceRunId: string): Promise<StoredFollowUpRequest[]> {
  const rows = await db.query<{
    trigger: string;
    author: string;
    permission: string | null;
    decision: FollowUpDecision;
    feedback: string | null;
    outcome: FollowUpRunOutcome | null;
    outcome_reason: string | null;
    commit_sha: string | null;
    created_at: Date;
  }>(
    `SELECT trigger, author, permission, decision, feedback, outcome, outcome_reason, commit_sha, created_at FROM followup_requests
      WHERE org_id = $1 AND source_run_id = $2 ORDER BY created_at, id LIMIT 100`,
    [orgId, sourceRunId],
  );
  return rows.map((r) => ({
    trigger: r.trigger,
    author: r.author,
    permission: r.permission,
    decision: r.decision,
    feedback: r.feedback,
    outcome: r.outcome,
    outcomeReason: r.outcome_reason,
    commitSha: r.commit_sha,
    createdAt: r.created_at,
  }));
}

/** The draft Userz opened as PR/MR `number` in the repository with this forge id, or null. */
export async function findRunByPullRequest(
  db: Queryable,
  forge: 'github' | 'gitlab',
  repoExternalId: string,
  number: number,
): Promise<Pick<Run, 'id' | 'orgId' | 'repoId'> | null> {
  const rows = await db.query<{ id: string; org_id: string; repo_id: string }>(
    `SELECT r.id, r.org_id, r.repo_id FROM runs r JOIN repos p ON p.id = r.repo_id
      WHERE p.forge = $1 AND p.external_id = $2 AND p.removed_at IS NULL AND r.pr_number = $3 AND r.org_id = p.org_id
      ORDER BY r.created_at LIMIT 1`,
    [forge, repoExternalId, number],
  );
  const r = rows[0];
  return r ? { id: r.id, orgId: r.org_id, repoId: r.repo_id } : null;
}

export async function getProgressComment(db: Queryable, sourceRunId: string): Promise<{ commentId: string; status: string } | null> {
  const rows = await db.query<{ comment_id: string; status: string }>('SELECT comment_id, status FROM progress_comments WHERE source_run_id = $1', [
    sourceRunId,
  ]);
  return rows[0] ? { commentId: rows[0].comment_id, status: rows[0].status } : null;
}

export async function saveProgressComment(db: Queryable, sourceRunId: string, commentId: string, status: string): Promise<void> {
  await db.query(
    `INSERT INTO progress_comments (source_run_id, comment_id, status) VALUES ($1, $2, $3)
     ON CONFLICT (source_run_id) DO UPDATE SET comment_id = EXCLUDED.comment_id, status = EXCLUDED.status, updated_at = now()`,
    [sourceRunId, commentId, status],
  );
}

/** What a follow-up run ended with (pipeline/followup-run.ts); `running` while it runs. */
export type FollowUpRunOutcome = 'running' | 'pushed' | 'failed';

export interface QueuedFollowUp {
  id: string;
  orgId: string;
  sourceRunId: string;
  forge: 'github' | 'gitlab';
  author: string;
  feedback: string;
  outcome: FollowUpRunOutcome | null;
  /** 1 for the draft's first queued follow-up, and so on. */
  ordinal: number;
  createdAt: Date;
}

export async function getQueuedFollowUp(db: Queryable, id: string): Promise<QueuedFollowUp | null> {
  const rows = await db.query<{
    id: string;
    org_id: string;
    source_run_id: string;
    forge: 'github' | 'gitlab';
    author: string;
    feedback: string | null;
    outcome: FollowUpRunOutcome | null;
    ordinal: string | number;
    created_at: Date;
  }>(
    `SELECT f.id, f.org_id, f.source_run_id, f.forge, f.author, f.feedback, f.outcome, f.created_at,
            (SELECT count(*) FROM followup_requests e WHERE e.source_run_id = f.source_run_id AND e.decision = 'queued'
               AND (e.created_at, e.id) <= (f.created_at, f.id)) AS ordinal
       FROM followup_requests f WHERE f.id = $1 AND f.decision = 'queued'`,
    [id],
  );
  const r = rows[0];
  return r
    ? {
        id: r.id,
        orgId: r.org_id,
        sourceRunId: r.source_run_id,
        forge: r.forge,
        author: r.author,
        feedback: r.feedback ?? '',
        outcome: r.outcome,
        ordinal: Number(r.ordinal),
        createdAt: r.created_at,
      }
    : null;
}

/** true while an earlier queued follow-up on the same draft has not ended: they run one after another, each on the last one's commit. */
export async function hasEarlierOpenFollowUp(db: Queryable, request: Pick<QueuedFollowUp, 'id' | 'sourceRunId'>): Promise<boolean> {
  const rows = await db.query(
    `SELECT 1 FROM followup_requests e, followup_requests f
      WHERE f.id = $1 AND e.source_run_id = $2 AND e.decision = 'queued' AND e.id <> f.id
        AND (e.created_at, e.id) < (f.created_at, f.id) AND (e.outcome IS NULL OR e.outcome = 'running') LIMIT 1`,
    [request.id, request.sourceRunId],
  );
  return rows.length > 0;
}

export async function setFollowUpOutcome(
  db: Queryable,
  id: string,
  outcome: FollowUpRunOutcome,
  fields: { reason?: string | null; commitSha?: string | null } = {},
): Promise<void> {
  await db.query(
    `UPDATE followup_requests SET outcome = $2, outcome_reason = $3, commit_sha = $4,
            finished_at = CASE WHEN $2 = 'running' THEN NULL ELSE now() END
      WHERE id = $1`,
    [id, outcome, fields.reason ?? null, fields.commitSha ?? null],
  );
}
