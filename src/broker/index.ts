/** Public face of the broker: serve one runner's model calls within a budget, and its run log. */
export {
  serveRunner,
  DEFAULT_MAX_OUTPUT_TOKENS_PER_CALL,
  type AgentTask,
  type RunnerOutcome,
  type RunnerOutcomeKind,
  type ServeRunnerOptions,
} from './serve.js';
export { DEFAULT_PRICES, DEFAULT_RUN_BUDGET, FALLBACK_PRICE, costOf, priceFor, type BudgetKind, type ModelPrice, type RunBudget } from './budget.js';
export { transcriptToJsonl, type TranscriptEntry } from './transcript.js';
