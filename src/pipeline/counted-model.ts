import { costOf, priceFor, type PriceTable } from '../billing/index.js';
import type { ModelClient } from '../model/index.js';
import type { PipelineMetrics } from './deps.js';

/**
 * The client with each answered call's tokens and cost counted under `purpose` (the agent's
 * are counted from its outcome in run.ts; this is for single calls such as the classifier's).
 * Without metrics it is the client itself.
 */
export function countedClient(client: ModelClient, metrics: PipelineMetrics | undefined, purpose: string, prices: PriceTable | undefined): ModelClient {
  if (!metrics) return client;
  return {
    provider: client.provider,
    model: client.model,
    async complete(request, opts) {
      const response = await client.complete(request, opts);
      metrics.modelUsage({ purpose, ...response.usage, costUsd: costOf(response.usage, priceFor(client.model, prices)) });
      return response;
    },
  };
}
