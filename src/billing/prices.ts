import type { ModelUsage } from '../model/index.js';

/**
 * The price table: USD per million tokens, per model. This is the one table the broker's
 * per-run budget and the spend ledger both charge from; an org may override entries
 * (org_budgets.prices), e.g. for negotiated rates or a self-hosted model.
 */
export interface ModelPrice {
  inputPerMTok: number;
  outputPerMTok: number;
  /** Input tokens read from the provider's prompt cache; absent: charged as input. */
  cachedInputPerMTok?: number;
}

export type PriceTable = Readonly<Record<string, ModelPrice>>;

/** List prices at the time of writing. */
export const DEFAULT_PRICES: PriceTable = {
  'gpt-4.1': { inputPerMTok: 2, outputPerMTok: 8, cachedInputPerMTok: 0.5 },
  'gpt-4.1-mini': { inputPerMTok: 0.4, outputPerMTok: 1.6, cachedInputPerMTok: 0.1 },
  'gpt-4o': { inputPerMTok: 2.5, outputPerMTok: 10, cachedInputPerMTok: 1.25 },
  'gpt-4o-mini': { inputPerMTok: 0.15, outputPerMTok: 0.6, cachedInputPerMTok: 0.075 },
  'o4-mini': { inputPerMTok: 1.1, outputPerMTok: 4.4, cachedInputPerMTok: 0.275 },
  'claude-opus-4-1': { inputPerMTok: 15, outputPerMTok: 75, cachedInputPerMTok: 1.5 },
  'claude-sonnet-4-5': { inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3 },
  'claude-sonnet-4-0': { inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3 },
  'claude-haiku-4-5': { inputPerMTok: 1, outputPerMTok: 5, cachedInputPerMTok: 0.1 },
  'claude-3-5-haiku-latest': { inputPerMTok: 0.8, outputPerMTok: 4, cachedInputPerMTok: 0.08 },
  'scripted-1': { inputPerMTok: 0, outputPerMTok: 0 },
};

/**
 * A model missing from the table is charged this, deliberately the most expensive tier,
 * so an unknown model can only end a run early, never let it overspend.
 */
export const FALLBACK_PRICE: ModelPrice = { inputPerMTok: 15, outputPerMTok: 75 };

export function priceFor(model: string, prices: PriceTable = DEFAULT_PRICES): ModelPrice {
  return Object.hasOwn(prices, model) ? prices[model]! : FALLBACK_PRICE;
}

/** The table with an org's overrides on top. */
export function withOverrides(overrides: PriceTable | null | undefined): PriceTable {
  return overrides ? { ...DEFAULT_PRICES, ...overrides } : DEFAULT_PRICES;
}

export function costOf(usage: ModelUsage, price: ModelPrice): number {
  const cached = Math.min(usage.cachedInputTokens ?? 0, usage.inputTokens);
  const cachedRate = price.cachedInputPerMTok ?? price.inputPerMTok;
  return ((usage.inputTokens - cached) * price.inputPerMTok + cached * cachedRate + usage.outputTokens * price.outputPerMTok) / 1_000_000;
}
