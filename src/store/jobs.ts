import type { Db, Queryable } from './db/interface.js';

/**
 * The durable job queue: a `jobs` table claimed with FOR UPDATE SKIP LOCKED. Chosen over
 * pg-boss because the same SQL runs on PGlite (the embedded default) and on Postgres, so
 * one pipeline serves both, and a job can be enqueued in the same transaction that stores
 * its report. Each job has an idempotency key: enqueueing an existing key is a no-op.
 *
 * A claimed job holds a lease (locked_until). A worker that dies (SIGKILL, power loss)
 * simply stops renewing it; when it lapses another worker claims the job again. Every
 * stage is therefore written to be safe to run again (see pipeline/run.ts).
 */
/**
 * `lifecycle` is the one recurring job (blob expiry, src/lifecycle/expire.ts): it reschedules itself and never completes.
 * `webhook` is one delivery of an event to an org's endpoint (src/webhooks/deliver.ts): it schedules its own retries.
 * `followup` is one queued follow-up from review (src/pipeline/followup-run.ts), enqueued with its request.
 */
export type JobKind = 'triage' | 'run' | 'notify' | 'lifecycle' | 'webhook' | 'followup';

export interface EnqueueOptions {
  runAt?: Date;
  maxAttempts?: number;
}

export interface Job {
  id: number;
  kind: JobKind;
  key: string;
  payload: Record<string, unknown>;
  attempts: number;
  maxAttempts: number;
}

/** Enqueues a job unless one with the same key exists. True when this call created it. */
export async function enqueueJob(tx: Queryable, kind: JobKind, key: string, payload: Record<string, unknown>, opts: EnqueueOptions = {}): Promise<boolean> {
  const rows = await tx.query(
    `INSERT INTO jobs (kind, key, payload, run_at, max_attempts) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (key) DO NOTHING RETURNING id`,
    [kind, key, JSON.stringify(payload), opts.runAt ?? new Date(), opts.maxAttempts ?? 5],
  );
  return rows.length === 1;
}

/**
 * Enqueues jobs of one kind in one statement, each unless one with its key exists (as
 * enqueueJob does). Group commit stores many reports per transaction; a statement per
 * job was most of that transaction's statements, and each costs a round of PGlite's WASM.
 */
export async function enqueueJobs(
  tx: Queryable,
  kind: JobKind,
  jobs: ReadonlyArray<{ key: string; payload: Record<string, unknown> }>,
  opts: EnqueueOptions = {},
): Promise<void> {
  if (jobs.length === 0) return;
  await tx.query(
    `INSERT INTO jobs (kind, key, payload, run_at, max_attempts)
     SELECT $1, t.key, t.payload::jsonb, $4, $5 FROM unnest($2::text[], $3::text[]) AS t(key, payload)
     ON CONFLICT (key) DO NOTHING`,
    [kind, jobs.map((j) => j.key), jobs.map((j) => JSON.stringify(j.payload)), opts.runAt ?? new Date(), opts.maxAttempts ?? 5],
  );
}

/** Claims up to `limit` due jobs of the given kinds for `leaseMs`; counts an attempt each. */
export async function claimJobs(db: Db, opts: { workerId: string; kinds: JobKind[]; limit: number; leaseMs: number }): Promise<Job[]> {
  if (opts.limit <= 0) return [];
  const rows = await db.query<{ id: number; kind: JobKind; key: string; payload: Record<string, unknown>; attempts: number; max_attempts: number }>(
    `UPDATE jobs SET locked_by = $1, locked_until = now() + ($2 || ' milliseconds')::interval, attempts = attempts + 1
      WHERE id IN (
        SELECT id FROM jobs
         WHERE done_at IS NULL AND kind = ANY($3::text[]) AND run_at <= now()
           AND (locked_until IS NULL OR locked_until < now())
         ORDER BY run_at, id
         LIMIT $4
         FOR UPDATE SKIP LOCKED)
      RETURNING id, kind, key, payload, attempts, max_attempts`,
    [opts.workerId, String(opts.leaseMs), opts.kinds, opts.limit],
  );
  return rows.map((r) => ({ id: Number(r.id), kind: r.kind, key: r.key, payload: r.payload, attempts: r.attempts, maxAttempts: r.max_attempts }));
}

/** Extends a held lease; false when the job is no longer ours (lease lapsed and re-claimed). */
export async function renewLease(db: Db, jobId: number, workerId: string, leaseMs: number): Promise<boolean> {
  const rows = await db.query(
    `UPDATE jobs SET locked_until = now() + ($3 || ' milliseconds')::interval WHERE id = $1 AND locked_by = $2 AND done_at IS NULL RETURNING 1`,
    [jobId, workerId, String(leaseMs)],
  );
  return rows.length === 1;
}

export async function completeJob(db: Queryable, jobId: number): Promise<void> {
  await db.query('UPDATE jobs SET done_at = now(), locked_until = NULL, last_error = NULL WHERE id = $1', [jobId]);
}

/** Schedules another attempt after `delayMs`, or ends the job when `final`. */
export async function failJob(db: Queryable, jobId: number, error: string, opts: { delayMs: number; final: boolean }): Promise<void> {
  await db.query(
    `UPDATE jobs SET last_error = $2, locked_until = NULL, locked_by = NULL,
            run_at = now() + ($3 || ' milliseconds')::interval,
            done_at = CASE WHEN $4 THEN now() ELSE NULL END
      WHERE id = $1`,
    [jobId, error.slice(0, 500), String(opts.delayMs), opts.final],
  );
}

/** The mark a wake leaves on a job in flight (store/spend.ts wakeBudgetWaiters): its defer is due at once. */
export const WOKEN_IN_FLIGHT = 'woken_in_flight';

/**
 * Moves a job to a later time without counting the attempt (e.g. a daily limit). A job
 * woken while it ran (WOKEN_IN_FLIGHT) is due now instead: what it waited for changed.
 */
export async function deferJob(db: Queryable, jobId: number, until: Date, reason: string): Promise<void> {
  await db.query(
    `UPDATE jobs SET run_at = CASE WHEN last_error = $4 THEN now() ELSE $2 END, locked_until = NULL, locked_by = NULL,
            attempts = GREATEST(attempts - 1, 0), last_error = $3
      WHERE id = $1`,
    [jobId, until, reason, WOKEN_IN_FLIGHT],
  );
}

/**
 * The queue as metrics read it at scrape time, in one query: per kind, the jobs not yet done
 * (due or scheduled later) and how long the oldest due one has waited since its run_at.
 */
export async function queueStats(db: Queryable): Promise<Array<{ kind: string; depth: number; oldestAgeSeconds: number }>> {
  const rows = await db.query<{ kind: string; depth: number | string; oldest: number | string | null }>(
    `SELECT kind, count(*)::int AS depth,
            EXTRACT(EPOCH FROM now() - min(run_at) FILTER (WHERE run_at <= now()))::float8 AS oldest
       FROM jobs WHERE done_at IS NULL GROUP BY kind`,
  );
  return rows.map((r) => ({ kind: r.kind, depth: Number(r.depth), oldestAgeSeconds: r.oldest === null ? 0 : Math.max(0, Number(r.oldest)) }));
}

/** Exponential backoff with full jitter, capped. */
export function backoffMs(attempt: number, baseMs = 2_000, capMs = 10 * 60_000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(ceiling / 2 + Math.random() * (ceiling / 2));
}
