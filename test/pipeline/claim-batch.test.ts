// Triage keeps up: jobs are claimed in batches by several workers at once without a job
// being claimed twice, a lapsed lease still hands a job over, and a backlog drains
// without waiting for the poll timer between batches.
import { acceptReport } from '../../src/intake/index.js';
import { claimJobs, enqueueJob, startWorker, type Worker } from '../../src/pipeline/index.js';
import { renewLease } from '../../src/store/index.js';
import { getApp } from '../../src/store/apps.js';
import type { Db } from '../../src/store/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { openTestDb } from '../helpers/db.js';
import { setUpCustomer, waitFor } from './scenario.js';

describe('batch claims on Postgres', () => {
  let db: Db;
  beforeEach(async () => {
    db = await openTestDb('postgres');
  });
  afterEach(async () => db.close());

  async function enqueue(n: number): Promise<void> {
    await db.transaction(async (tx) => {
      for (let i = 0; i < n; i++) await enqueueJob(tx, 'triage', `triage:rep_${i}`, { reportId: `rep_${i}` });
    });
  }

  it('never gives one job to two workers claiming batches at the same time', async () => {
    await enqueue(300);
    const claimedBy = new Map<number, string>();
    const doubles: number[] = [];
    const drain = async (workerId: string) => {
      for (;;) {
        const jobs = await claimJobs(db, { workerId, kinds: ['triage'], limit: 25, leaseMs: 60_000 });
        if (jobs.length === 0) return;
        for (const j of jobs) {
          if (claimedBy.has(j.id)) doubles.push(j.id);
          claimedBy.set(j.id, workerId);
        }
      }
    };
    await Promise.all([drain('w1'), drain('w2'), drain('w3')]);
    expect(doubles).toEqual([]);
    expect(claimedBy.size).toBe(300);
    const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobs WHERE attempts = 1 AND locked_by IS NOT NULL`);
    expect(Number(row!.n)).toBe(300);
  });

  it('hands a job whose lease lapsed to another worker, and the first one can no longer renew it', async () => {
    await enqueue(3);
    const first = await claimJobs(db, { workerId: 'w1', kinds: ['triage'], limit: 10, leaseMs: 60_000 });
    expect(first).toHaveLength(3);
    expect(await claimJobs(db, { workerId: 'w2', kinds: ['triage'], limit: 10, leaseMs: 60_000 })).toEqual([]);
    // w1 died: its lease runs out (moved into the past rather than waited for).
    await db.query(`UPDATE jobs SET locked_until = now() - interval '1 second' WHERE id = $1`, [first[0]!.id]);
    const second = await claimJobs(db, { workerId: 'w2', kinds: ['triage'], limit: 10, leaseMs: 60_000 });
    expect(second.map((j) => [j.id, j.attempts])).toEqual([[first[0]!.id, 2]]);
    expect(await renewLease(db, first[0]!.id, 'w1', 60_000)).toBe(false);
    expect(await renewLease(db, first[1]!.id, 'w1', 60_000)).toBe(true);
  });
});

describe('worker backlog', () => {
  let app: TestApp;
  let worker: Worker | undefined;
  beforeEach(async () => {
    app = await startTestApp({ db: 'postgres' });
  }, 120_000);
  afterEach(async () => {
    await worker?.stop();
    await app.close();
  });

  it('claims the next batch as jobs finish instead of waiting for the poll timer', async () => {
    const { db, blobs } = app.deps.store;
    const { appId } = await setUpCustomer(app);
    const product = (await getApp(db, appId))!;
    for (let i = 0; i < 40; i++) {
      await acceptReport(
        { db, blobs },
        {
          app: product,
          source: 'widget',
          content: { text: `Report number ${i} about the cart` },
          replyTo: { kind: 'widget' },
          reporterKey: null,
          actor: 'test',
        },
      );
    }
    // One poll at start; the timer would not fire again within this test.
    worker = startWorker(app.deps.pipeline, { pollMs: 10 * 60_000, concurrency: { triage: 4 } });
    await waitFor(
      async () => {
        const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobs WHERE kind = 'triage' AND done_at IS NULL`);
        return Number(row!.n) === 0;
      },
      60_000,
      'the triage backlog to drain',
    );
    const states = await db.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM reports GROUP BY status');
    expect(states).toEqual([{ status: 'needs_review', n: 40 }]);
  });
});
