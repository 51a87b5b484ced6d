/** Public face of the broker: serve one runner's model calls within a budget, and its run log. */
export { serveRunner, type HostToolHandler, type RunnerOutcome } from './serve.js';
export { DEFAULT_RUN_BUDGET, type RunBudget } from './budget.js';
export { transcriptToJsonl } from './transcript.js';
