import type { ModelRequest, ModelUsage } from '../model/index.js';

/** Per-run limits, checked before every model call. */
export interface RunBudget {
  maxTurns: number;
  maxInputTokens: number;
  maxOutputTokens: number;
  maxCostUsd: number;
}

/** A starting point for the composition root; orgs and plans override it. */
export const DEFAULT_RUN_BUDGET: Readonly<RunBudget> = { maxTurns: 40, maxInputTokens: 2_000_000, maxOutputTokens: 100_000, maxCostUsd: 5 };

export type BudgetKind = 'turns' | 'input_tokens' | 'output_tokens' | 'cost';

/** USD per million tokens. */
export interface ModelPrice {
  inputPerMTok: number;
  outputPerMTok: number;
}

/**
 * List prices at the time of writing; the composition root may pass its own table. A model
 * missing from the table is charged FALLBACK_PRICE, deliberately the most expensive tier,
 * so an unknown model can only end a run early, never let it overspend.
 */
export const DEFAULT_PRICES: Readonly<Record<string, ModelPrice>> = {
  'gpt-4.1': { inputPerMTok: 2, outputPerMTok: 8 },
  'gpt-4.1-mini': { inputPerMTok: 0.4, outputPerMTok: 1.6 },
  'gpt-4o': { inputPerMTok: 2.5, outputPerMTok: 10 },
  'gpt-4o-mini': { inputPerMTok: 0.15, outputPerMTok: 0.6 },
  'o4-mini': { inputPerMTok: 1.1, outputPerMTok: 4.4 },
  'claude-opus-4-1': { inputPerMTok: 15, outputPerMTok: 75 },
  'claude-sonnet-4-5': { inputPerMTok: 3, outputPerMTok: 15 },
  'claude-sonnet-4-0': { inputPerMTok: 3, outputPerMTok: 15 },
  'claude-3-5-haiku-latest': { inputPerMTok: 0.8, outputPerMTok: 4 },
  'scripted-1': { inputPerMTok: 0, outputPerMTok: 0 },
};
export const FALLBACK_PRICE: ModelPrice = { inputPerMTok: 15, outputPerMTok: 75 };

export function priceFor(model: string, prices: Readonly<Record<string, ModelPrice>> = DEFAULT_PRICES): ModelPrice {
  return Object.hasOwn(prices, model) ? prices[model]! : FALLBACK_PRICE;
}

export function costOf(usage: ModelUsage, price: ModelPrice): number {
  return (usage.inputTokens * price.inputPerMTok + usage.outputTokens * price.outputPerMTok) / 1_000_000;
}

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
  if (spent.costUsd + costOf({ inputTokens: nextInputTokens, outputTokens: 0 }, price) >= budget.maxCostUsd) return 'cost';
  return null;
}

/**
 * Output tokens the next call may produce: what is left of the token budget and of the
 * cost budget once the estimated input is paid, and never more than the per-call cap.
 */
export function outputAllowance(spent: Spent, budget: RunBudget, nextInputTokens: number, price: ModelPrice, perCallCap: number): number {
  const byTokens = budget.maxOutputTokens - spent.outputTokens;
  const costLeft = budget.maxCostUsd - spent.costUsd - costOf({ inputTokens: nextInputTokens, outputTokens: 0 }, price);
  const byCost = price.outputPerMTok > 0 ? Math.floor((costLeft * 1_000_000) / price.outputPerMTok) : Number.POSITIVE_INFINITY;
  return Math.max(1, Math.min(perCallCap, byTokens, byCost));
}
