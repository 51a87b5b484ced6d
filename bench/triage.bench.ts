/**
 * Triage throughput: a backlog of widget-shaped reports (one error in 40 spellings, so they
 * batch) drained by one worker with its default triage concurrency, (a) prefilter only (no
 * classifier: reports are held for review) and (b) with a classifier stub that answers
 * `benign` after 300 ms (reports join batches). On Postgres (the pool's default 10
 * connections) and on PGlite. Printed as jobs/s against the intake rate it must keep up
 * with (500 req/s, issue 17), with the batches the benign reports formed. Baseline in the
 * same run: a smaller backlog with 4 at once, the old default.
 * --quick: backlogs of 300 jobs with a 100-job baseline (full: 2,000 and 200), and PGlite
 * opened from the tests' migrated template (test/helpers/db.ts) instead of its own initdb.
 */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { DEFAULT_RUN_BUDGET } from '../src/broker/index.js';
import { createApp, type Notifier } from '../src/intake/index.js';
import type { ModelClient, ModelResponse } from '../src/model/index.js';
import { startWorker, type PipelineDeps, type WorkerOptions } from '../src/pipeline/index.js';
import { generateKeyringEntry, KeyringMasterKey, Vault } from '../src/security/index.js';
import { LocalBlobStore, migrate, openPglite, openPostgres, type Db } from '../src/store/index.js';
import { createTestOrg, openTestDb } from '../test/helpers/db.js';
import { printBench, quick, scale } from './bench-line.js';

const DATABASE_URL = process.env.USERZ_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const INTAKE_RATE = 500;
const BACKENDS = (process.env.USERZ_BENCH_TRIAGE_BACKENDS ?? 'postgres,pglite').split(',');
const JOBS = Number(process.env.USERZ_BENCH_TRIAGE_JOBS ?? scale(2000, 300));
const BASELINE_JOBS = scale(200, 100);

/** Answers like a classifier that takes `ms` per call. */
function slowBenignClassifier(ms: number): ModelClient {
  const answer: ModelResponse = {
    content: JSON.stringify({ label: 'benign', confidence: 0.95, reason: 'A bug report.' }),
    toolCalls: [],
    usage: { inputTokens: 200, outputTokens: 20 },
    stopReason: 'end',
  };
  return { provider: 'scripted', model: 'stub-300ms', complete: () => new Promise((r) => setTimeout(() => r(answer), ms)) };
}

async function backlog(db: Db, orgId: string, appId: string, n: number, tag: string): Promise<void> {
  await db.query(
    `INSERT INTO reports (id, org_id, app_id, source, content)
     SELECT 'rep_' || $3 || i, $1, $2, 'widget', jsonb_build_object('text', 'Checkout fails when the cart has ' || i || ' items', 'console', jsonb_build_array(jsonb_build_object('level', 'error', 'message', 'TypeError: x is undefined at cart.js:' || (i % 40))))
       FROM generate_series(1, $4::int) AS i`,
    [orgId, appId, tag, n],
  );
  await db.query(
    `INSERT INTO jobs (kind, key, payload, run_at, max_attempts)
     SELECT 'triage', 'triage:rep_' || $1 || i, jsonb_build_object('reportId', 'rep_' || $1 || i), now(), 5 FROM generate_series(1, $2::int) AS i`,
    [tag, n],
  );
}

async function drain(deps: PipelineDeps, n: number, opts: WorkerOptions): Promise<number> {
  const started = process.hrtime.bigint();
  const worker = startWorker(deps, opts);
  try {
    for (;;) {
      const [row] = await deps.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobs WHERE kind = 'triage' AND done_at IS NULL`);
      if (Number(row!.n) === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return n / (Number(process.hrtime.bigint() - started) / 1e9);
  } finally {
    await worker.stop();
    const failed = await deps.db.query<{ last_error: string; n: number }>(
      `SELECT last_error, count(*)::int AS n FROM jobs WHERE kind = 'triage' AND last_error IS NOT NULL GROUP BY last_error`,
    );
    if (failed.length > 0) console.log(`  failed triage jobs: ${failed.map((f) => `${f.last_error} ×${f.n}`).join(', ')}`);
  }
}

async function measure(backend: 'postgres' | 'pglite', db: Db, dir: string): Promise<Array<{ name: string; value: number; baseline: number }>> {
  await migrate(db);
  const vault = new Vault(db, new KeyringMasterKey(generateKeyringEntry(1)));
  const orgId = await createTestOrg(db, vault, 'Bench');
  const app = await createApp(db, vault, { orgId, name: 'Bench', origins: [], actor: 'bench' });
  const base: PipelineDeps = {
    db,
    blobs: new LocalBlobStore(dir),
    vault,
    log: pino({ level: process.env.USERZ_BENCH_LOG ?? 'silent' }),
    publicUrl: 'http://127.0.0.1',
    forgeFor: () => {
      throw new Error('no runs in this benchmark');
    },
    notifier: { notifyReporter: async () => undefined } satisfies Notifier,
    budget: DEFAULT_RUN_BUDGET,
    // Runs are scheduled far out: this measures triage only.
    batchDelayMs: 3_600_000,
  };
  const n = JOBS;
  const row = (name: string, rate: number, extra = '') =>
    console.log(
      `${backend.padEnd(8)} ${name.padEnd(46)} ${rate.toFixed(1).padStart(7)} jobs/s   ${(rate / INTAKE_RATE).toFixed(2)}x of ${INTAKE_RATE} req/s intake${extra}`,
    );
  const batchesOf = async (tag: string) => {
    const [r] = await db.query<{ batches: number; reports: number }>(
      `SELECT count(DISTINCT batch_id)::int AS batches, count(*)::int AS reports FROM reports WHERE id LIKE $1 AND batch_id IS NOT NULL`,
      [`rep_${tag}%`],
    );
    return `, ${r!.reports} reports in ${r!.batches} batches`;
  };

  await backlog(db, orgId, app.app.id, BASELINE_JOBS, 'old');
  const old = await drain(base, BASELINE_JOBS, { concurrency: { triage: 4 } });
  row(`baseline: 4 at once, the old default (${BASELINE_JOBS} jobs)`, old);

  await backlog(db, orgId, app.app.id, n, 'pre');
  const pre = await drain(base, n, {});
  row(`prefilter only, default concurrency (${n} jobs)`, pre);

  await backlog(db, orgId, app.app.id, n, 'cls');
  const cls = await drain({ ...base, classifier: slowBenignClassifier(300) }, n, {});
  row(`classifier stub 300 ms, default concurrency (${n} jobs)`, cls, await batchesOf('cls'));
  return [
    { name: `triage/${backend}/prefilter_only`, value: pre, baseline: old },
    { name: `triage/${backend}/classifier_300ms`, value: cls, baseline: old },
  ];
}

export default async function (): Promise<void> {
  const figures: Array<{ name: string; value: number; baseline: number }> = [];
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  if (BACKENDS.includes('postgres')) {
    const pg = await openPostgres({ url: DATABASE_URL, schema });
    try {
      figures.push(...(await measure('postgres', pg, join(tmpdir(), `userz-bench-${schema}`))));
    } finally {
      await pg.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pg.close();
    }
  }
  if (BACKENDS.includes('pglite')) {
    const lite = quick ? await openTestDb('pglite') : await openPglite();
    try {
      figures.push(...(await measure('pglite', lite, join(tmpdir(), `userz-bench-${schema}-pglite`))));
    } finally {
      await lite.close();
    }
  }
  for (const f of figures) printBench({ ...f, metric: 'jobs_per_s', goal: `value >= ${INTAKE_RATE}` });
}
