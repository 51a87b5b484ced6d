import { fixedModels, getRunSpend, getUsage, placeRunHold, runAllowance, setCaps, settleRunHold, setOrgPlan, PLANS } from '../../src/billing/index.js';
import { ScriptedModelClient } from '../../src/model/index.js';
import { executeRun } from '../../src/pipeline/index.js';
import { UserzError } from '../../src/errors.js';
import type { Forge } from '../../src/forge/index.js';
import { enqueueJob, getHold, upsertRepo, type Db } from '../../src/store/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestOrg, DB_KINDS } from '../helpers/db.js';
import { seedApp, seedRun } from './seed.js';

const DEFAULTS = { runCostCapUsd: 1, runTokenCap: 100_000 };
const TTL = 10 * 60_000;

async function runState(db: Db, runId: string): Promise<{ state: string; reason: string | null }> {
  const [row] = await db.query<{ state: string; state_reason: string | null }>('SELECT state, state_reason FROM runs WHERE id = $1', [runId]);
  return { state: row!.state, reason: row!.state_reason };
}

describe.each(DB_KINDS)('spend holds and caps (%s)', (kind) => {
  let app: TestApp;
  let db: Db;
  beforeAll(async () => {
    app = await startTestApp({ db: kind });
    db = app.deps.store.db;
  });
  afterAll(async () => app.close());

  async function org(caps: Parameters<typeof setCaps>[2] = {}): Promise<{ orgId: string; appId: string }> {
    const orgId = await createTestOrg(db, app.deps.vault, 'spend');
    if (Object.keys(caps).length) await setCaps(db, orgId, caps, 'test', DEFAULTS);
    return { orgId, appId: await seedApp(db, orgId) };
  }

  it('20 runs racing for a monthly cap that fits 5 holds: exactly 5 start', async () => {
    const { orgId, appId } = await org({ monthlyCostCapUsd: 5, runCostCapUsd: 1 });
    const runs = await Promise.all(Array.from({ length: 20 }, () => seedRun(db, orgId, appId)));
    const results = await Promise.all(runs.map((id) => db.transaction((tx) => placeRunHold(tx, { id, orgId }, { defaults: DEFAULTS, ttlMs: TTL }))));
    expect(results.filter((r) => r.placed)).toHaveLength(5);
    const usage = await getUsage(db, orgId, DEFAULTS);
    expect(usage.holds).toEqual({ count: 5, costUsd: 5, tokens: 5 * DEFAULTS.runTokenCap });
    expect(usage.remaining.costUsd).toBe(0);
  });

  it('20 runs of the real run job, in 20 Apps, racing for a cap that fits 5: 5 start, 15 wait in triaged with budget_exhausted', async () => {
    const { orgId } = await org({ monthlyCostCapUsd: 5, runCostCapUsd: 1 });
    const repo = await upsertRepo(
      db,
      { orgId, forge: 'github', externalId: `r${Date.now()}`, fullName: 'acme/race', installationId: 1, defaultBranch: 'main' },
      'test',
    );
    // One App each, so the Apps' daily-limit locks do not serialise the starts: only the org's budget lock does.
    const runs = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const appId = await seedApp(db, orgId);
        const runId = await seedRun(db, orgId, appId, 'triaged', repo.id);
        return runId;
      }),
    );
    // A run that started waits in its forge session (its hold committed and open) until every run has tried.
    let sessions = 0;
    let deferred = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const check = () => sessions + deferred === runs.length && release();
    const forge = {
      openSession: async () => {
        sessions += 1;
        check();
        await gate;
        throw new UserzError('forge_unavailable', 'down for the test');
      },
    } as unknown as Forge;
    const deps = { ...app.deps.pipeline, forgeFor: () => forge, holdTtlMs: TTL };
    const steps = await Promise.all(
      runs.map(async (id) => {
        const step = await executeRun(deps, id, { finalAttempt: true });
        if (step.kind === 'deferred') {
          deferred += 1;
          check();
        }
        return step;
      }),
    );
    expect(sessions).toBe(5);
    expect(steps.filter((s) => s.kind === 'deferred')).toHaveLength(15);
    const states = await Promise.all(runs.map((id) => runState(db, id)));
    expect(states.filter((s) => s.state === 'triaged' && s.reason === 'budget_exhausted')).toHaveLength(15);
    // The five that started ended errored when their forge failed, and their holds were settled on that path.
    expect(states.filter((s) => s.state === 'errored' && s.reason === 'forge_unavailable')).toHaveLength(5);
    expect((await getUsage(db, orgId, DEFAULTS)).holds.count).toBe(0);
  });

  it('a resumed run keeps its one hold; a settled hold counts only what its run spent', async () => {
    const { orgId, appId } = await org({ monthlyCostCapUsd: 3, runCostCapUsd: 1 });
    const runId = await seedRun(db, orgId, appId, 'triaged');
    const first = await db.transaction((tx) => placeRunHold(tx, { id: runId, orgId }, { defaults: DEFAULTS, ttlMs: TTL }));
    const again = await db.transaction((tx) => placeRunHold(tx, { id: runId, orgId }, { defaults: DEFAULTS, ttlMs: TTL }));
    expect(first).toMatchObject({ placed: true, resumed: false, costUsd: 1 });
    expect(again).toMatchObject({ placed: true, resumed: true, costUsd: 1 });
    expect((await getUsage(db, orgId, DEFAULTS)).holds).toEqual({ count: 1, costUsd: 1, tokens: DEFAULTS.runTokenCap });

    // The run spends 0.3 USD through its metered agent: the hold still reserves the rest.
    const models = await fixedModels(db, {
      agent: new ScriptedModelClient([{ usage: { inputTokens: 50_000, outputTokens: 25_000 } }], 'gpt-4.1'),
    }).forOrg(orgId);
    await models!.agentFor(runId)!.complete({ messages: [{ role: 'user', content: 'go' }] });
    expect(await runAllowance(db, { id: runId, orgId })).toEqual({ costUsd: 0.7, tokens: DEFAULTS.runTokenCap - 75_000 });
    let usage = await getUsage(db, orgId, DEFAULTS);
    expect(usage.spent.costUsd).toBeCloseTo(0.3, 6);
    expect(usage.holds.costUsd).toBeCloseTo(0.7, 6);
    expect(usage.remaining.costUsd).toBeCloseTo(2, 6);

    await db.transaction((tx) => settleRunHold(tx, runId));
    await db.transaction((tx) => settleRunHold(tx, runId)); // idempotent
    usage = await getUsage(db, orgId, DEFAULTS);
    expect(usage.holds.count).toBe(0);
    expect(usage.remaining.costUsd).toBeCloseTo(2.7, 6);
    expect(await getHold(db, runId)).toMatchObject({ settledAt: expect.any(Date) });
    const [settled] = await db.query<{ settled_cost_usd: string }>('SELECT settled_cost_usd FROM spend_holds WHERE run_id = $1', [runId]);
    expect(Number(settled!.settled_cost_usd)).toBeCloseTo(0.3, 6);
  });

  it("a hold re-opened for the same run (a follow-up) counts only the spend since it opened, not the first run's", async () => {
    const { orgId, appId } = await org({ monthlyCostCapUsd: 3, runCostCapUsd: 1 });
    const runId = await seedRun(db, orgId, appId, 'pr_opened');
    const models = await fixedModels(db, {
      agent: new ScriptedModelClient(
        [{ usage: { inputTokens: 50_000, outputTokens: 25_000 } }, { usage: { inputTokens: 10_000, outputTokens: 5_000 } }],
        'gpt-4.1',
      ),
    }).forOrg(orgId);
    // The first run: its hold, 0.3 USD spent, settled.
    await db.transaction((tx) => placeRunHold(tx, { id: runId, orgId }, { defaults: DEFAULTS, ttlMs: TTL }));
    await models!.agentFor(runId)!.complete({ messages: [{ role: 'user', content: 'go' }] });
    await db.transaction((tx) => settleRunHold(tx, runId));

    // The follow-up re-opens it: the whole per-run cap again, the month still counts the first spend.
    const reopened = await db.transaction((tx) => placeRunHold(tx, { id: runId, orgId }, { defaults: DEFAULTS, ttlMs: TTL }));
    expect(reopened).toMatchObject({ placed: true, resumed: false, costUsd: 1 });
    expect(await runAllowance(db, { id: runId, orgId })).toEqual({ costUsd: 1, tokens: DEFAULTS.runTokenCap });
    let usage = await getUsage(db, orgId, DEFAULTS);
    expect(usage.holds).toEqual({ count: 1, costUsd: 1, tokens: DEFAULTS.runTokenCap });
    expect(usage.remaining.costUsd).toBeCloseTo(1.7, 6);

    // The follow-up spends 0.06 USD; settling records that, and the month counts both.
    await models!.agentFor(runId)!.complete({ messages: [{ role: 'user', content: 'go' }] });
    const allowance = await runAllowance(db, { id: runId, orgId });
    expect(allowance!.costUsd).toBeCloseTo(0.94, 6);
    expect(allowance!.tokens).toBe(DEFAULTS.runTokenCap - 15_000);
    await db.transaction((tx) => settleRunHold(tx, runId));
    const [settled] = await db.query<{ settled_cost_usd: string; settled_tokens: string }>(
      'SELECT settled_cost_usd, settled_tokens FROM spend_holds WHERE run_id = $1',
      [runId],
    );
    expect([Number(settled!.settled_cost_usd), Number(settled!.settled_tokens)]).toEqual([0.06, 15_000]);
    usage = await getUsage(db, orgId, DEFAULTS);
    expect(usage.holds.count).toBe(0);
    expect(usage.spent.costUsd).toBeCloseTo(0.36, 6);
    expect((await getRunSpend(db, orgId, runId)).costUsd).toBeCloseTo(0.36, 6);
  });

  it("a dead run's hold lapses with its lease: counted while its job is leased, not after", async () => {
    const { orgId, appId } = await org({ monthlyCostCapUsd: 1, runCostCapUsd: 1 });
    const dead = await seedRun(db, orgId, appId, 'running');
    const next = await seedRun(db, orgId, appId);
    // Placed with an expiry already past: only the job's lease keeps it alive.
    await db.transaction((tx) => placeRunHold(tx, { id: dead, orgId }, { defaults: DEFAULTS, ttlMs: -1000 }));
    await enqueueJob(db, 'run', `run:${dead}`, { runId: dead });
    await db.query("UPDATE jobs SET locked_until = now() + interval '1 minute', locked_by = 'w1' WHERE key = $1", [`run:${dead}`]);
    const blocked = await db.transaction((tx) => placeRunHold(tx, { id: next, orgId }, { defaults: DEFAULTS, ttlMs: TTL }));
    expect(blocked.placed).toBe(false);
    // The worker died: its lease ran out.
    await db.query("UPDATE jobs SET locked_until = now() - interval '1 second' WHERE key = $1", [`run:${dead}`]);
    const placed = await db.transaction((tx) => placeRunHold(tx, { id: next, orgId }, { defaults: DEFAULTS, ttlMs: TTL }));
    expect(placed.placed).toBe(true);
  });

  it('a run that does not fit waits in triaged with budget_exhausted and starts once the cap is raised', async () => {
    const { orgId, appId } = await org({ monthlyCostCapUsd: 0.5, runCostCapUsd: 1 });
    const runId = await seedRun(db, orgId, appId);
    const step = await executeRun(app.deps.pipeline, runId, { finalAttempt: false });
    expect(step.kind).toBe('deferred');
    const until = step.kind === 'deferred' ? step.until : new Date(0);
    expect(until.getTime()).toBeGreaterThan(Date.now());
    expect(await runState(db, runId)).toEqual({ state: 'triaged', reason: 'budget_exhausted' });
    // As the worker leaves it: the job deferred to `until`.
    await enqueueJob(db, 'run', `run:${runId}`, { runId }, { runAt: until });

    await setCaps(db, orgId, { monthlyCostCapUsd: 10 }, 'test', DEFAULTS);
    const [job] = await db.query<{ due: boolean }>('SELECT run_at <= now() AS due FROM jobs WHERE key = $1', [`run:${runId}`]);
    expect(job!.due).toBe(true);
    const after = await executeRun(app.deps.pipeline, runId, { finalAttempt: false });
    expect(after.kind).toBe('done');
    // It started (running), then ended on the missing repository, with its hold settled on that error path.
    expect(await runState(db, runId)).toEqual({ state: 'errored', reason: 'no_repo_linked' });
    expect(await getHold(db, runId)).toMatchObject({ settledAt: expect.any(Date) });
  });

  it('a plan gives the monthly caps; explicit caps override it; null goes back to the plan', async () => {
    const { orgId } = await org();
    expect((await getUsage(db, orgId, DEFAULTS)).caps).toEqual({ plan: null, monthlyCostCapUsd: null, monthlyTokenCap: null, ...DEFAULTS });
    await setOrgPlan(db, orgId, 'pro', 'stripe:evt_x');
    expect((await getUsage(db, orgId, DEFAULTS)).caps).toMatchObject({ plan: 'pro', monthlyCostCapUsd: PLANS.pro.monthlyCostCapUsd });
    await setCaps(db, orgId, { monthlyCostCapUsd: 42, runTokenCap: 5000 }, 'test', DEFAULTS);
    expect((await getUsage(db, orgId, DEFAULTS)).caps).toMatchObject({ plan: 'pro', monthlyCostCapUsd: 42, runTokenCap: 5000 });
    await setCaps(db, orgId, { monthlyCostCapUsd: null }, 'test', DEFAULTS);
    expect((await getUsage(db, orgId, DEFAULTS)).caps).toMatchObject({ monthlyCostCapUsd: PLANS.pro.monthlyCostCapUsd, runTokenCap: 5000 });
    await expect(setCaps(db, orgId, { runCostCapUsd: -1 }, 'test', DEFAULTS)).rejects.toMatchObject({ code: 'caps_invalid' });
  });

  it('writes one ledger row per model call with provider tokens and cost, cached tokens at their rate, per-org price overrides', async () => {
    const { orgId, appId } = await org();
    const runId = await seedRun(db, orgId, appId, 'running');
    const agent = new ScriptedModelClient(
      [{ usage: { inputTokens: 1000, outputTokens: 500, cachedInputTokens: 400 } }, { usage: { inputTokens: 2000, outputTokens: 100 } }],
      'gpt-4.1',
    );
    const client = (await fixedModels(db, { agent }).forOrg(orgId))!.agentFor(runId)!;
    await client.complete({ messages: [{ role: 'user', content: 'a' }] });
    // gpt-4.1: 2 USD/MTok input, 0.5 cached, 8 output → (600·2 + 400·0.5 + 500·8) / 1e6
    expect(await getRunSpend(db, orgId, runId)).toEqual({ calls: 1, inputTokens: 1000, outputTokens: 500, cachedTokens: 400, costUsd: 0.0054 });

    await setCaps(db, orgId, { prices: { 'gpt-4.1': { inputPerMTok: 1, outputPerMTok: 1 } } }, 'test', DEFAULTS);
    const repriced = (await fixedModels(db, { agent }).forOrg(orgId))!.agentFor(runId)!;
    await repriced.complete({ messages: [{ role: 'user', content: 'b' }] });
    expect(await getRunSpend(db, orgId, runId)).toEqual({ calls: 2, inputTokens: 3000, outputTokens: 600, cachedTokens: 400, costUsd: 0.0054 + 0.0021 });
    const rows = await db.query<{ run_id: string; org_id: string; purpose: string; provider: string; model: string }>(
      'SELECT run_id, org_id, purpose, provider, model FROM spend_ledger WHERE run_id = $1',
      [runId],
    );
    expect(rows).toEqual([
      { run_id: runId, org_id: orgId, purpose: 'agent', provider: 'scripted', model: 'gpt-4.1' },
      { run_id: runId, org_id: orgId, purpose: 'agent', provider: 'scripted', model: 'gpt-4.1' },
    ]);
    const usage = await getUsage(db, orgId, DEFAULTS);
    expect(usage.spent).toMatchObject({ calls: 2, inputTokens: 3000, outputTokens: 600, costUsd: 0.0075 });
    // Next month starts from zero.
    const nextMonth = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() + 1, 2));
    expect((await getUsage(db, orgId, DEFAULTS, nextMonth)).spent.calls).toBe(0);
  });
});
