import Anthropic, {
  APIConnectionTimeoutError as AnthropicTimeout,
  APIError as AnthropicApiError,
  APIUserAbortError as AnthropicAbort,
} from '@anthropic-ai/sdk';
import OpenAI, { APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { ModelProvider } from './create.js';
import { callWithDeadline } from './provider-call.js';

export interface ModelKeyProbe {
  provider: ModelProvider;
  apiKey: string;
  baseUrl?: string;
  /** The models the org means to use; each is looked up. */
  models: string[];
  timeoutMs?: number;
}

const OPENAI_ERRORS = { APIConnectionTimeoutError, APIError, APIUserAbortError };
const ANTHROPIC_ERRORS = { APIConnectionTimeoutError: AnthropicTimeout, APIError: AnthropicApiError, APIUserAbortError: AnthropicAbort };

/**
 * Checks a key once with the cheapest call each provider has: the models list (OpenAI and
 * OpenAI-compatible endpoints) or a model lookup per model (Anthropic). No tokens are spent.
 * Throws the model/ codes (`model_auth_failed` for 401/403, `model_unavailable` or
 * `model_timeout` when the endpoint cannot be reached); returns the models the provider
 * does not know. No retries: the person saving the key is waiting for the answer.
 */
export async function probeModelKey(probe: ModelKeyProbe): Promise<{ unknownModels: string[] }> {
  const timeoutMs = probe.timeoutMs ?? 10_000;
  const models = [...new Set(probe.models)];
  if (probe.provider === 'anthropic') {
    const sdk = new Anthropic({ apiKey: probe.apiKey, authToken: null, baseURL: probe.baseUrl ?? null, timeout: timeoutMs + 1000, maxRetries: 0 });
    const unknownModels: string[] = [];
    for (const model of models) {
      try {
        await callWithDeadline('anthropic', { timeoutMs, sdk: ANTHROPIC_ERRORS }, (signal) => sdk.models.retrieve(model, {}, { signal }));
      } catch (e) {
        if (isNotFound(e)) unknownModels.push(model);
        else throw e;
      }
    }
    return { unknownModels };
  }
  const sdk = new OpenAI({ apiKey: probe.apiKey, baseURL: probe.baseUrl ?? null, timeout: timeoutMs + 1000, maxRetries: 0 });
  const page = await callWithDeadline(probe.provider, { timeoutMs, sdk: OPENAI_ERRORS }, (signal) => sdk.models.list({ signal }));
  const known = new Set(page.data.map((m) => m.id));
  return { unknownModels: models.filter((m) => !known.has(m)) };
}

function isNotFound(e: unknown): boolean {
  const details = (e as { code?: string; details?: { status?: number } }) ?? {};
  return details.code === 'model_request_rejected' && details.details?.status === 404;
}
