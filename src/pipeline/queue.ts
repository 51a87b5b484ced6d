import type { Queryable } from '../store/index.js';

/**
 * The durable job queue: a `jobs` table claimed with FOR UPDATE SKIP LOCKED. Chosen over
 * pg-boss because the same SQL runs on PGlite (the embedded default) and on Postgres, so
 * one pipeline serves both, and a job can be enqueued in the same transaction that stores
 * its report. Each job has an idempotency key: enqueueing an existing key is a no-op.
 */
export type JobKind = 'triage' | 'run' | 'notify' | 'cleanup';

export interface EnqueueOptions {
  runAt?: Date;
  maxAttempts?: number;
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
