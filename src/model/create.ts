import { UserzError } from '../errors.js';
import { AnthropicModelClient } from './anthropic.js';
import type { ModelClient } from './interface.js';
import { OpenAIModelClient } from './openai.js';
import type { ProviderClientOptions } from './provider-call.js';

/** `openai-compatible`: an OpenAI-style chat completions endpoint at the org's own base URL (self-hosted or cloud-hosted). */
export const MODEL_PROVIDERS = ['openai', 'anthropic', 'openai-compatible'] as const;
export type ModelProvider = (typeof MODEL_PROVIDERS)[number];

export interface ModelClientConfig extends ProviderClientOptions {
  provider: ModelProvider;
}

/** Chosen by the composition root from the org's configuration; the scripted client is for tests only. */
export function createModelClient(config: ModelClientConfig): ModelClient {
  const { provider, ...opts } = config;
  switch (provider) {
    case 'openai':
    case 'openai-compatible':
      return new OpenAIModelClient(opts);
    case 'anthropic':
      return new AnthropicModelClient(opts);
    default:
      throw new UserzError('model_provider_unknown', 'Unknown model provider', { details: { provider: String(provider) } });
  }
}
