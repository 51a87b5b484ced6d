import { UserzError } from '../errors.js';

/**
 * What went wrong with a provider call, independent of the SDK. Both clients reduce their
 * SDK's errors to this, so the codes and retry flags are the same for every provider.
 */
export type ProviderFailure =
  { kind: 'aborted' } | { kind: 'timeout' } | { kind: 'connection' } | { kind: 'status'; status: number; requestId?: string | null };

/**
 * Provider messages are never copied into the error: some echo part of the API key
 * ("Incorrect API key provided: sk-…"). Only the status and request id travel.
 */
export function toModelError(provider: string, failure: ProviderFailure, cause?: unknown): UserzError {
  const base = { cause, details: { provider, ...(failure.kind === 'status' ? { status: failure.status, requestId: failure.requestId ?? undefined } : {}) } };
  switch (failure.kind) {
    case 'aborted':
      return new UserzError('model_aborted', 'Model call was aborted', { ...base, retryable: true });
    case 'timeout':
      return new UserzError('model_timeout', 'Model call timed out', { ...base, retryable: true });
    case 'connection':
      return new UserzError('model_unavailable', 'Model provider could not be reached', { ...base, retryable: true });
    case 'status':
      return statusError(failure.status, base);
  }
}

function statusError(status: number, base: { cause?: unknown; details: Record<string, unknown> }): UserzError {
  if (status === 401 || status === 403) return new UserzError('model_auth_failed', 'Model provider refused the credentials', base);
  if (status === 429) return new UserzError('model_rate_limited', 'Model provider rate limit reached', { ...base, retryable: true });
  if (status === 408) return new UserzError('model_timeout', 'Model call timed out', { ...base, retryable: true });
  if (status >= 500) return new UserzError('model_unavailable', 'Model provider failed', { ...base, retryable: true });
  return new UserzError('model_request_rejected', 'Model provider rejected the request', base);
}

export function badResponse(provider: string, reason: string): UserzError {
  return new UserzError('model_bad_response', `Model answer could not be used: ${reason}`, { details: { provider } });
}

/** Parses a provider's JSON-string tool arguments into an object. */
export function parseToolArguments(provider: string, raw: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = raw.trim() === '' ? {} : JSON.parse(raw);
  } catch {
    throw badResponse(provider, 'tool call arguments are not JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badResponse(provider, 'tool call arguments are not an object');
  return value as Record<string, unknown>;
}
