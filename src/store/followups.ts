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

/** Inserts the request; false when this delivery was already recorded (a redelivered webhook). */
export async function insertFollowUpRequest(tx: Queryable, input: FollowUpRequestInput): Promise<boolean> {
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
  return rows.length === 1;
}

export interface StoredFollowUpRequest {
  trigger: string;
  author: string;
  permission: string | null;
  decision: FollowUpDecision;
  feedback: string | null;
  createdAt: Date;
}

export async function listFollowUpRequests(db: Queryable, orgId: string, sourceRunId: string): Promise<StoredFollowUpRequest[]> {
  const rows = await db.query<{
    trigger: string;
    author: string;
    permission: string | null;
    decision: FollowUpDecision;
    feedback: string | null;
    created_at: Date;
  }>(
    `SELECT trigger, author, permission, decision, feedback, created_at FROM followup_requests
      WHERE org_id = $1 AND source_run_id = $2 ORDER BY created_at, id LIMIT 100`,
    [orgId, sourceRunId],
  );
  return rows.map((r) => ({
    trigger: r.trigger,
    author: r.author,
    permission: r.permission,
    decision: r.decision,
    feedback: r.feedback,
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
