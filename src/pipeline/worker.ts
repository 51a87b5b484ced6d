import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { errorMessage, isUserzError } from '../errors.js';
import type { PipelineDeps } from './deps.js';
import { notifyRun } from './notify.js';
import { backoffMs, claimJobs, completeJob, deferJob, failJob, renewLease, type Job, type JobKind } from '../store/index.js';
import { executeRun } from './run.js';
import { executeFollowUp } from './followup-run.js';
import { runLifecycleJob } from '../lifecycle/index.js';
import { deliverWebhookJob } from '../webhooks/index.js';
import { recordTriageFailure } from './triage.js';
import { TriageGroups } from './triage-group.js';

export interface WorkerOptions {
  /** Concurrent jobs per kind in this process; runs are bounded by sandbox capacity. */
  concurrency?: Partial<Record<JobKind, number>>;
  pollMs?: number;
  leaseMs?: number;
  workerId?: string;
}

export interface Worker {
  readonly id: string;
  /** Resolves when nothing is in flight (tests). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

// Triage is mostly waiting (USERZ_TRIAGE_CONCURRENCY). A classifier call holds no database
// connection (it is made before the transaction), and the writes of every job that finished
// meanwhile go in one transaction (triage-group.ts), so concurrency is bounded by the model's
// latency, not the pool: 512 at once allow ~1,700 jobs/s with a 300 ms model (256 capped a
// 300 ms model near 630-850 jobs/s, too close to the 500 req/s intake it must keep up with).
const DEFAULT_CONCURRENCY: Record<JobKind, number> = { triage: 512, run: 2, notify: 8, lifecycle: 1, webhook: 8, followup: 1 };

/**
 * Failures of the database itself rather than of the job: a deadlock or serialization
 * failure (Postgres aborts one side), a pool that had no connection free in time, a
 * connection lost. Retried with backoff instead of ending the job (and erroring its report).
 */
function isTransientDbError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && ['40P01', '40001', '57P01', '08000', '08003', '08006', '53300'].includes(code)) return true;
  return /timeout exceeded when trying to connect|Connection terminated/i.test(errorMessage(e));
}

/**
 * Polls the jobs table and runs due jobs with bounded concurrency per kind. Many workers
 * (processes or hosts) can share one database: claims use FOR UPDATE SKIP LOCKED and a
 * lease renewed while the job runs. A job that throws a retryable error is retried with
 * backoff; anything else, or the last attempt, ends it (its stage has already recorded a
 * terminal state).
 */
export function startWorker(deps: PipelineDeps, opts: WorkerOptions = {}): Worker {
  const id = opts.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const concurrency = { ...DEFAULT_CONCURRENCY, ...opts.concurrency };
  const pollMs = opts.pollMs ?? 500;
  const leaseMs = opts.leaseMs ?? 60_000;
  const inFlight = new Map<JobKind, number>([
    ['triage', 0],
    ['run', 0],
    ['notify', 0],
    ['lifecycle', 0],
    ['webhook', 0],
    ['followup', 0],
  ]);
  const running = new Set<Promise<void>>();
  // Triage jobs share report reads and write their results in groups (one transaction each).
  const triage = new TriageGroups(deps);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | undefined;
  let pollAgain = false;
  // Kinds whose last claim filled every free slot: more are probably due, so a finished
  // job claims the next batch at once instead of waiting for the poll timer (which capped
  // triage at concurrency / pollMs, about 8 jobs/s).
  const backlog = new Set<JobKind>();
  // A claim is a round trip: a backlogged kind claims again once this many slots are free
  // (1 for small concurrencies), not after every single job.
  const claimBatch = (kind: JobKind) => Math.max(1, Math.floor(concurrency[kind] / 16));
  // Kinds a finished job asked to claim; the poll timer claims every kind.
  const woken = new Set<JobKind>();
  const ALL_KINDS: readonly JobKind[] = ['notify', 'triage', 'run', 'lifecycle', 'webhook', 'followup'];

  const poll = async (kinds: readonly JobKind[]): Promise<void> => {
    for (const kind of kinds) {
      const free = concurrency[kind] - inFlight.get(kind)!;
      if (free <= 0 || stopped) continue;
      const jobs = await claimJobs(deps.db, { workerId: id, kinds: [kind], limit: free, leaseMs });
      if (jobs.length === free) backlog.add(kind);
      else backlog.delete(kind);
      for (const job of jobs) {
        inFlight.set(kind, inFlight.get(kind)! + 1);
        const p = runJob(job).finally(() => {
          inFlight.set(kind, inFlight.get(kind)! - 1);
          running.delete(p);
          if (backlog.has(kind) && concurrency[kind] - inFlight.get(kind)! >= claimBatch(kind)) wake(kind);
        });
        running.add(p);
      }
    }
  };

  /** Polls as soon as the current poll (if any) is done; jobs finishing in one turn share one claim. */
  const wake = (kind: JobKind) => {
    if (stopped) return;
    woken.add(kind);
    if (polling) {
      pollAgain = true;
      return;
    }
    clearTimeout(timer);
    timer = setTimeout(() => loop(takeWoken()), 0);
  };
  const takeWoken = (): JobKind[] => {
    const kinds = ALL_KINDS.filter((k) => woken.has(k));
    woken.clear();
    return kinds;
  };

  const runJob = async (job: Job): Promise<void> => {
    const log = deps.log.child({ jobId: job.id, kind: job.kind, attempt: job.attempts });
    const renew = setInterval(() => void renewLease(deps.db, job.id, id, leaseMs).catch(() => undefined), Math.max(1_000, leaseMs / 3));
    try {
      const final = job.attempts >= job.maxAttempts;
      // Triage closes its job in its own transaction (one commit for both).
      if (job.kind === 'triage') await triage.triage(String(job.payload.reportId), job.id);
      else if (job.kind === 'run') {
        const step = await executeRun(deps, String(job.payload.runId), { finalAttempt: final });
        if (step.kind === 'deferred') {
          log.info({ until: step.until.toISOString() }, 'Run deferred by the daily limit');
          await deferJob(deps.db, job.id, step.until, 'run_deferred').catch(() => undefined);
          return;
        }
      }
      // The recurring lifecycle job reschedules its own row instead of completing.
      else if (job.kind === 'lifecycle') await runLifecycleJob(deps, job.id);
      // A delivery completes or reschedules its own job, with its attempt in the delivery log.
      else if (job.kind === 'webhook') await deliverWebhookJob({ ...deps, ...deps.webhooks }, job);
      else if (job.kind === 'followup') {
        const step = await executeFollowUp(deps, String(job.payload.requestId), { finalAttempt: final });
        if (step.kind === 'deferred') {
          await deferJob(deps.db, job.id, step.until, 'followup_waits').catch(() => undefined);
          return;
        }
      } else await notifyRun(deps, String(job.payload.runId), job.payload.review);
      if (job.kind !== 'triage' && job.kind !== 'lifecycle' && job.kind !== 'webhook') await completeJob(deps.db, job.id);
    } catch (e) {
      const retryable = (isUserzError(e) && e.retryable) || isTransientDbError(e);
      const final = !retryable || job.attempts >= job.maxAttempts;
      const code = isUserzError(e) ? e.code : 'internal_error';
      log[final ? 'error' : 'warn']({ code, err: errorMessage(e), final }, 'Job failed');
      // The report's state first: if we die before the job is closed, its lease lapses and
      // the job runs again, rather than closing with the report still `received`.
      if (final && job.kind === 'triage') {
        await recordTriageFailure(deps, String(job.payload.reportId), code).catch((err: unknown) =>
          log.error({ err: errorMessage(err) }, 'Report could not be marked errored'),
        );
      }
      await failJob(deps.db, job.id, code, { delayMs: backoffMs(job.attempts), final }).catch(() => undefined);
    } finally {
      clearInterval(renew);
    }
  };

  const loop = (kinds: readonly JobKind[] = ALL_KINDS) => {
    if (stopped) return;
    clearTimeout(timer);
    polling = poll(kinds)
      .catch((e: unknown) => deps.log.warn({ err: errorMessage(e) }, 'Job poll failed'))
      .finally(() => {
        polling = undefined;
        const soon = pollAgain;
        pollAgain = false;
        if (!stopped) timer = soon ? setTimeout(() => loop(takeWoken()), 0) : setTimeout(() => loop(), pollMs);
      });
  };
  loop();

  return {
    id,
    async idle() {
      while (running.size > 0) await Promise.all([...running]);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await polling;
      await Promise.all([...running]);
    },
  };
}
