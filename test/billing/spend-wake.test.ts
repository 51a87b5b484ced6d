import { fixedModels, getUsage, placeRunHold, runAllowance, setCaps, settleRunHold, setOrgPlan } from '../../src/billing/index.js';
import { UserzError } from '../../src/errors.js';
import type { Forge } from '../../src/forge/index.js';
import { ScriptedModelClient } from '../../src/model/index.js';
import { executeRun } from '../../src/pipeline/index.js';
import { deferJob, enqueueJob, failJob, getHold, upsertRepo, type Db } from '../../src/store/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestOrg } from '../helpers/db.js';
import { seedApp, seedRun } from './seed.js';

const DEFAULTS = { runCostCapUsd: 1, runTokenCap: 100_000 };
const TTL = 15 * 60_000;

/**
 * The two gaps a review found in the holds (issue 19): a wake that lands between a run's
 * decision to wait and its job's defer, and a retried run whose hold lapsed during its
 * backoff. The interleavings are driven step by step, as the worker runs them
 * (claim → executeRun → deferJob / failJob); time passes by moving the rows' clocks back.
 */
describe('spend holds: wakes in flight and lapsed holds of retried runs (postgres)', () => {
  let app: TestApp;
  let db: Db;
  beforeAll(async () => {
    app = await startTestApp({ db: 'postgres' });
    db = app.deps.store.db;
  });
  afterAll(async () => app.close());

  async function runState(runId: string): Promise<{ state: string; reason: string | null }> {
    const [row] = await db.query<{ state: string; state_reason: string | null }>('SELECT state, state_reason FROM runs WHERE id = $1', [runId]);
    return { state: row!.state, reason: row!.state_reason };
  }

  /** Enqueues the run's job and leases it, as claimJobs leaves a claimed job. */
  async function claim(runId: string): Promise<number> {
    await enqueueJob(db, 'run', `run:${runId}`, { runId });
    const [job] = await db.query<{ id: string }>(
      "UPDATE jobs SET locked_by = 'w1', locked_until = now() + interval '1 minute', attempts = attempts + 1, run_at = least(run_at, now()) WHERE key = $1 RETURNING id",
      [`run:${runId}`],
    );
    return Number(job!.id);
  }

  const due = async (jobId: number): Promise<boolean> => {
    const [row] = await db.query<{ due: boolean }>('SELECT run_at <= now() AS due FROM jobs WHERE id = $1', [jobId]);
    return row!.due;
  };

  type Wake = 'cap raised' | 'plan changed' | "another run's hold settled" | 'nothing';
  it.each<Wake>(['cap raised', 'plan changed', "another run's hold settled", 'nothing'])(
    'between a run committing budget_exhausted and its job being deferred: %s (the deferred job is due at once after any wake, and only then)',
    async (wake) => {
      const orgId = await createTestOrg(db, app.deps.vault, 'wake');
      const appId = await seedApp(db, orgId);
      if (wake === 'plan changed') {
        await setOrgPlan(db, orgId, 'free', 'test'); // 10 USD a month
        await setCaps(db, orgId, { runCostCapUsd: 20 }, 'test', DEFAULTS);
      } else await setCaps(db, orgId, { monthlyCostCapUsd: 1, runCostCapUsd: 1 }, 'test', DEFAULTS);
      const blocker = await seedRun(db, orgId, appId, 'running');
      if (wake !== 'plan changed') await db.transaction((tx) => placeRunHold(tx, { id: blocker, orgId }, { defaults: DEFAULTS, ttlMs: TTL }));

      const runId = await seedRun(db, orgId, appId);
      const jobId = await claim(runId);
      const step = await executeRun(app.deps.pipeline, runId, { finalAttempt: false });
      expect(step.kind).toBe('deferred');
      expect(await runState(runId)).toEqual({ state: 'triaged', reason: 'budget_exhausted' });

      // The run's transaction has committed; the worker has not deferred its job yet.
      if (wake === 'cap raised') await setCaps(db, orgId, { monthlyCostCapUsd: 10 }, 'test', DEFAULTS);
      if (wake === 'plan changed') await setOrgPlan(db, orgId, 'pro', 'test');
      if (wake === "another run's hold settled") await db.transaction((tx) => settleRunHold(tx, blocker));
      await deferJob(db, jobId, step.kind === 'deferred' ? step.until : new Date(0), 'run_deferred');

      expect(await due(jobId)).toBe(wake !== 'nothing');
      if (wake === 'nothing') return;
      // Due again, it starts: the wake was not lost.
      await claim(runId);
      expect(await executeRun(app.deps.pipeline, runId, { finalAttempt: false })).toEqual({ kind: 'done' });
      expect(await runState(runId)).toEqual({ state: 'errored', reason: 'no_repo_linked' });
    },
  );

  it('a retried run whose hold lapsed in its backoff must fit again: it waits with budget_exhausted, and resumes with its hold placed again once it fits', async () => {
    const orgId = await createTestOrg(db, app.deps.vault, 'lapse');
    await setCaps(db, orgId, { monthlyCostCapUsd: 1.5, runCostCapUsd: 1 }, 'test', DEFAULTS);
    const repo = await upsertRepo(
      db,
      { orgId, forge: 'github', externalId: `lapse${Date.now()}`, fullName: 'acme/lapse', installationId: 1, defaultBranch: 'main' },
      'test',
    );
    const a = await seedRun(db, orgId, await seedApp(db, orgId), 'triaged', repo.id);
    const b = await seedRun(db, orgId, await seedApp(db, orgId), 'triaged', repo.id);
    const sessions: string[] = [];
    const forge = {
      openSession: async () => {
        sessions.push('open');
        throw new UserzError('forge_unavailable', 'down for the test', { retryable: true });
      },
    } as unknown as Forge;
    const deps = { ...app.deps.pipeline, forgeFor: () => forge, holdTtlMs: TTL };

    // A starts (its hold: 1 USD), spends 0.30 USD, and fails retryably: its job waits in backoff with no lease.
    const jobA = await claim(a);
    await expect(executeRun(deps, a, { finalAttempt: false })).rejects.toMatchObject({ code: 'forge_unavailable' });
    const models = await fixedModels(db, {
      agent: new ScriptedModelClient([{ usage: { inputTokens: 50_000, outputTokens: 25_000 } }], 'gpt-4.1'),
    }).forOrg(orgId);
    await models!.agentFor(a)!.complete({ messages: [{ role: 'user', content: 'go' }] });
    await failJob(db, jobA, 'forge_unavailable', { delayMs: 16 * 60_000, final: false });
    expect(await runState(a)).toEqual({ state: 'running', reason: null });

    // Sixteen minutes pass (the rows' clocks move back): A's backoff is over, and its hold lapsed.
    await db.query("UPDATE spend_holds SET expires_at = expires_at - interval '16 minutes' WHERE run_id = $1", [a]);
    await db.query("UPDATE jobs SET run_at = run_at - interval '16 minutes' WHERE id = $1", [jobA]);
    expect((await getUsage(db, orgId, DEFAULTS)).holds.count).toBe(0);

    // Meanwhile B starts and takes the reserve: 0.30 spent + 1 held ≤ 1.5.
    const jobB = await claim(b);
    await expect(executeRun(deps, b, { finalAttempt: false })).rejects.toMatchObject({ code: 'forge_unavailable' });
    await failJob(db, jobB, 'forge_unavailable', { delayMs: 60_000, final: false });
    expect(sessions).toHaveLength(2);

    // A resumes: the 0.70 USD its hold still allowed no longer fits (0.30 + 1 + 0.70 > 1.5), so it waits.
    await claim(a);
    const step = await executeRun(deps, a, { finalAttempt: false });
    expect(step.kind).toBe('deferred');
    expect(sessions).toHaveLength(2); // no agent phase, no forge session
    expect(await runState(a)).toEqual({ state: 'running', reason: 'budget_exhausted' });
    await deferJob(db, jobA, step.kind === 'deferred' ? step.until : new Date(0), 'run_deferred');
    expect(await due(jobA)).toBe(false);
    const usage = await getUsage(db, orgId, DEFAULTS);
    expect(usage.holds).toMatchObject({ count: 1, costUsd: 1 });
    expect(usage.spent.costUsd + usage.holds.costUsd).toBeLessThanOrEqual(1.5);

    // B's hold is settled (it spent nothing): A is woken, fits again (0.30 + 0.70 ≤ 1.5) and goes on with 0.70 left.
    await db.transaction((tx) => settleRunHold(tx, b));
    expect(await due(jobA)).toBe(true);
    await claim(a);
    await expect(executeRun(deps, a, { finalAttempt: false })).rejects.toMatchObject({ code: 'forge_unavailable' });
    expect(sessions).toHaveLength(3);
    expect(await runState(a)).toEqual({ state: 'running', reason: null });
    const hold = await getHold(db, a);
    expect(hold).toMatchObject({ costUsd: 1, settledAt: null });
    expect(hold!.expiresAt.getTime()).toBeGreaterThan(Date.now());
    expect(await runAllowance(db, { id: a, orgId })).toEqual({ costUsd: 0.7, tokens: hold!.tokens - 75_000 });
    expect((await getUsage(db, orgId, DEFAULTS)).holds).toEqual({ count: 1, costUsd: 0.7, tokens: hold!.tokens - 75_000 });
  });
});
