import { costOf, type ModelPrice } from '../billing/index.js';
import type { ModelRequest } from '../model/index.js';

/** Per-run limits, checked before every model call. */
export interface RunBudget {
  maxTurns: number;
  maxInputTokens: number;
  maxOutputTokens: number;
  maxCostUsd: number;
  /** Input and output tokens together (the org's per-run token cap, which its monthly hold reserves); absent: no such cap. */
  maxTotalTokens?: number;
}

/** A starting point for the composition root; orgs and plans override it. */
export const DEFAULT_RUN_BUDGET: Readonly<RunBudget> = { maxTurns: 40, maxInputTokens: 2_000_000, maxOutputTokens: 100_000, maxCostUsd: 5 };

export type BudgetKind = 'turns' | 'input_tokens' | 'output_tokens' | 'tokens' | 'cost';

// The price table is billing's (src/billing/prices.ts): the run budget and the ledger charge from the same one.
export { DEFAULT_PRICES, costOf, priceFor, type ModelPrice } from '../billing/index.js';

export interface Spent {
  turns: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/**
 * A rough input size for the next call (4 bytes a token). Counting it before the call
 * stops a run whose next prompt alone would cross the input or cost limit.
 */
export function estimateInputTokens(request: ModelRequest): number {
  return Math.ceil(Buffer.byteLength(JSON.stringify(request)) / 4);
}

/** The first limit the next call would cross, or null when it may go ahead. */
export function exceededBudget(spent: Spent, budget: RunBudget, nextInputTokens: number, price: ModelPrice): BudgetKind | null {
  if (spent.turns >= budget.maxTurns) return 'turns';
  if (spent.inputTokens + nextInputTokens > budget.maxInputTokens) return 'input_tokens';
  if (spent.outputTokens >= budget.maxOutputTokens) return 'output_tokens';
  if (budget.maxTotalTokens !== undefined && spent.inputTokens + spent.outputTokens + nextInputTokens >= budget.maxTotalTokens) return 'tokens';
  if (spent.costUsd + costOf({ inputTokens: nextInputTokens, outputTokens: 0 }, price) >= budget.maxCostUsd) return 'cost';
  return null;
}

/**
 * Output tokens the next call may produce: what is left of the token budget and of the
 * cost budget once the estimated input is paid, and never more than the per-call cap.
 */
export function outputAllowance(spent: Spent, budget: RunBudget, nextInputTokens: number, price: ModelPrice, perCallCap: number): number {
  const byTokens = Math.min(
    budget.maxOutputTokens - spent.outputTokens,
    budget.maxTotalTokens === undefined ? Number.POSITIVE_INFINITY : budget.maxTotalTokens - spent.inputTokens - spent.outputTokens - nextInputTokens,
  );
  const costLeft = budget.maxCostUsd - spent.costUsd - costOf({ inputTokens: nextInputTokens, outputTokens: 0 }, price);
  const byCost = price.outputPerMTok > 0 ? Math.floor((costLeft * 1_000_000) / price.outputPerMTok) : Number.POSITIVE_INFINITY;
  return Math.max(1, Math.min(perCallCap, byTokens, byCost));
}
