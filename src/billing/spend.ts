import { UserzError } from '../errors.js';
import {
  extendHold,
  getHold,
  getOrgBudget,
  holdSpendTotals,
  liveHoldReserve,
  lockOrgBudget,
  orgSpendByPurpose,
  orgSpendTotals,
  recordAudit,
  runSpendTotals,
  settleHoldRow,
  upsertHold,
  upsertOrgCaps,
  wakeBudgetWaiters,
  type CapsPatch,
  type Db,
  type OrgBudgetRow,
  type Queryable,
  type SpendTotals,
} from '../store/index.js';
import { isPlanName, PLANS, type PlanName } from './plans.js';
import type { PriceTable } from './prices.js';

/**
 * Caps and holds (issue 19). Per run: a cost and a token cap (the broker's run budget).
 * Per org and calendar month (UTC): a cost and a token cap, from the plan unless set
 * explicitly. Before a run starts it places a hold for its per-run caps on the org's
 * month, under the org's budget row lock, so concurrent starts cannot overshoot; when it
 * ends the hold is settled and only the ledger's actual spend counts.
 */
export interface RunCaps {
  runCostCapUsd: number;
  runTokenCap: number;
}

export interface EffectiveCaps extends RunCaps {
  plan: PlanName | null;
  /** null: no monthly cap. */
  monthlyCostCapUsd: number | null;
  monthlyTokenCap: number | null;
}

/** Explicit caps win, then the plan's; without either there is no monthly cap. Run caps default to `defaults` (the process's run budget). */
export function effectiveCaps(row: OrgBudgetRow | null, defaults: RunCaps): EffectiveCaps {
  const plan = row?.plan && isPlanName(row.plan) ? row.plan : null;
  const limits = plan ? PLANS[plan] : null;
  return {
    plan,
    monthlyCostCapUsd: row?.monthlyCostCapUsd ?? limits?.monthlyCostCapUsd ?? null,
    monthlyTokenCap: row?.monthlyTokenCap ?? limits?.monthlyTokenCap ?? null,
    runCostCapUsd: row?.runCostCapUsd ?? defaults.runCostCapUsd,
    runTokenCap: row?.runTokenCap ?? defaults.runTokenCap,
  };
}

/** The calendar month (UTC) of `now`: its first day and [from, to). */
export function monthOf(now: Date): { month: string; from: Date; to: Date } {
  const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  return { month: from.toISOString().slice(0, 10), from, to };
}

/** Spend is compared in micro-dollars, as the ledger stores it (numeric(14,6)). */
const micro = (usd: number): number => Math.round(usd * 1_000_000);

/** How long a waiting run sleeps before it looks again even if nothing woke it (a dead run's hold lapsing wakes no one). */
const RECHECK_MS = 15 * 60_000;

export type HoldResult = { placed: true; costUsd: number; tokens: number; resumed: boolean } | { placed: false; retryAt: Date; caps: EffectiveCaps };

/**
 * Places the run's hold in `tx` (call it in the transaction that moves the run to
 * `running`, and in the one that resumes a run already `running`). Idempotent per run: a
 * run whose open hold is still live keeps it (its expiry is pushed out). `ttlMs` bounds a
 * hold whose run's job holds no lease (a worker that died, a retry waiting in backoff):
 * past it, the hold no longer counts, so a run resumed after that must fit again, under
 * the same lock and arithmetic as a new hold, for what its hold still allows (the hold
 * less its earlier attempts' spend); if it does not, it waits like a new run.
 */
export async function placeRunHold(
  tx: Queryable,
  run: { id: string; orgId: string },
  opts: { defaults: RunCaps; ttlMs: number; now?: Date },
): Promise<HoldResult> {
  const budget = await lockOrgBudget(tx, run.orgId);
  const existing = await getHold(tx, run.id);
  const open = existing && !existing.settledAt ? existing : null;
  if (open && (await extendHold(tx, run.id, opts.ttlMs))) return { placed: true, costUsd: open.costUsd, tokens: open.tokens, resumed: true };
  const caps = effectiveCaps(budget, opts.defaults);
  const now = opts.now ?? new Date();
  const { month, from, to } = monthOf(now);
  // A lapsed hold is placed again with its amounts; the run may still spend them less what it spent.
  const amount = open ? { costUsd: open.costUsd, tokens: open.tokens } : { costUsd: caps.runCostCapUsd, tokens: caps.runTokenCap };
  const ran = open ? await holdSpendTotals(tx, run.orgId, run.id) : null;
  const needCost = ran ? Math.max(0, micro(amount.costUsd) - micro(ran.costUsd)) : micro(amount.costUsd);
  const needTokens = ran ? Math.max(0, amount.tokens - ran.inputTokens - ran.outputTokens) : amount.tokens;
  const spent = await orgSpendTotals(tx, run.orgId, from, to);
  const reserved = await liveHoldReserve(tx, run.orgId, month, run.id);
  const costFits = caps.monthlyCostCapUsd === null || micro(spent.costUsd) + micro(reserved.costUsd) + needCost <= micro(caps.monthlyCostCapUsd);
  const tokensFit = caps.monthlyTokenCap === null || spent.inputTokens + spent.outputTokens + reserved.tokens + needTokens <= caps.monthlyTokenCap;
  if (!costFits || !tokensFit) return { placed: false, retryAt: new Date(Math.min(to.getTime() + 1000, now.getTime() + RECHECK_MS)), caps };
  await upsertHold(tx, { runId: run.id, orgId: run.orgId, month, costUsd: amount.costUsd, tokens: amount.tokens, ttlMs: opts.ttlMs });
  return { placed: true, costUsd: amount.costUsd, tokens: amount.tokens, resumed: open !== null };
}

/**
 * What the run may still spend under its hold: the hold less what its earlier attempts
 * already spent under it (a resumed run's broker starts counting from zero; a follow-up's
 * re-opened hold does not count the first run's spend). Null: the run has no open hold (it
 * started before holds existed, or it ended).
 */
export async function runAllowance(db: Queryable, run: { id: string; orgId: string }): Promise<{ costUsd: number; tokens: number } | null> {
  const hold = await getHold(db, run.id);
  if (!hold || hold.settledAt) return null;
  const spent = await holdSpendTotals(db, run.orgId, run.id);
  return { costUsd: Math.max(0, hold.costUsd - spent.costUsd), tokens: Math.max(0, hold.tokens - spent.inputTokens - spent.outputTokens) };
}

/**
 * Settles the run's hold to its actual spend (the ledger's rows): the month then counts
 * only those. Idempotent. Runs of the org waiting with `budget_exhausted` are woken, as
 * the released reserve may now fit them.
 */
export async function settleRunHold(tx: Queryable, runId: string): Promise<void> {
  const settled = await settleHoldRow(tx, runId);
  if (!settled) return;
  // The org's budget lock first: a start that read this hold as live and is deciding to
  // wait commits before the wake looks for waiters, so the wake reaches it.
  await lockOrgBudget(tx, settled.orgId);
  await wakeBudgetWaiters(tx, settled.orgId);
}

export interface CapsInput {
  monthlyCostCapUsd?: number | null;
  monthlyTokenCap?: number | null;
  runCostCapUsd?: number | null;
  runTokenCap?: number | null;
  /** Per-model price overrides (USD per million tokens); null clears them. */
  prices?: PriceTable | null;
}

/**
 * Sets the org's explicit caps (null: back to the plan's, or the default run budget).
 * Raising a cap wakes the org's runs waiting with `budget_exhausted` at once.
 */
export async function setCaps(db: Db, orgId: string, input: CapsInput, actor: string, defaults: RunCaps): Promise<EffectiveCaps> {
  for (const [k, v] of Object.entries(input)) {
    if (k !== 'prices' && v !== null && v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0))
      throw new UserzError('caps_invalid', `${k} must be a number ≥ 0 or null`);
  }
  const patch: CapsPatch = { ...input, prices: input.prices as Record<string, unknown> | null | undefined };
  const row = await db.transaction(async (tx) => {
    const saved = await upsertOrgCaps(tx, orgId, patch);
    await wakeBudgetWaiters(tx, orgId);
    const data: Record<string, number | null> = {};
    for (const k of ['monthlyCostCapUsd', 'monthlyTokenCap', 'runCostCapUsd', 'runTokenCap'] as const) if (input[k] !== undefined) data[k] = input[k]!;
    await recordAudit(tx, { actor, action: 'caps.set', orgId, subject: orgId, data: { ...data, prices: input.prices === undefined ? 'unchanged' : 'set' } });
    return saved;
  });
  return effectiveCaps(row, defaults);
}

export interface Usage {
  /** The calendar month (UTC), YYYY-MM. */
  month: string;
  spent: SpendTotals & { byPurpose: Array<SpendTotals & { purpose: string }> };
  /** Live holds of running runs: what they still reserve beyond their spend so far. */
  holds: { count: number; costUsd: number; tokens: number };
  caps: EffectiveCaps;
  /** Left under the monthly caps after spend and holds; null: no cap. */
  remaining: { costUsd: number | null; tokens: number | null };
  prices: PriceTable | null;
}

/** Month-to-date spend, live holds and the caps (GET /api/v1/usage, the console's usage panel). */
export async function getUsage(db: Queryable, orgId: string, defaults: RunCaps, now = new Date()): Promise<Usage> {
  const { month, from, to } = monthOf(now);
  const row = await getOrgBudget(db, orgId);
  const caps = effectiveCaps(row, defaults);
  const spent = await orgSpendTotals(db, orgId, from, to);
  const byPurpose = await orgSpendByPurpose(db, orgId, from, to);
  const reserve = await liveHoldReserve(db, orgId, month, null);
  const round = (usd: number): number => micro(usd) / 1_000_000;
  return {
    month: month.slice(0, 7),
    spent: { ...spent, costUsd: round(spent.costUsd), byPurpose },
    holds: { count: reserve.holds, costUsd: round(reserve.costUsd), tokens: reserve.tokens },
    caps,
    remaining: {
      costUsd: caps.monthlyCostCapUsd === null ? null : Math.max(0, round(caps.monthlyCostCapUsd - spent.costUsd - reserve.costUsd)),
      tokens: caps.monthlyTokenCap === null ? null : Math.max(0, caps.monthlyTokenCap - spent.inputTokens - spent.outputTokens - reserve.tokens),
    },
    prices: (row?.prices as PriceTable | null) ?? null,
  };
}

/** Tokens and cost of one run (the run page), from the ledger. */
export async function getRunSpend(db: Queryable, orgId: string, runId: string): Promise<SpendTotals> {
  const totals = await runSpendTotals(db, orgId, runId);
  return { ...totals, costUsd: micro(totals.costUsd) / 1_000_000 };
}

/** The per-run caps of an org without explicit ones, from a run budget (the process's). */
export function runCapsOf(budget: { maxCostUsd: number; maxInputTokens: number; maxOutputTokens: number; maxTotalTokens?: number }): RunCaps {
  return { runCostCapUsd: budget.maxCostUsd, runTokenCap: budget.maxTotalTokens ?? budget.maxInputTokens + budget.maxOutputTokens };
}
