import { startDeadline } from './deadline.js';
import { badResponse, toModelError, type ProviderFailure } from './provider-error.js';

/** What both provider clients (OpenAI, Anthropic) are built from. */
export interface ProviderClientOptions {
  apiKey: string;
  model: string;
  /** Self-hosted gateways and tests. */
  baseUrl?: string;
  /** Whole call including SDK retries, in ms (default 120 s). */
  timeoutMs?: number;
  /** SDK retries on 408/429/5xx and connection errors (default 2). */
  maxRetries?: number;
}

export const DEFAULT_TIMEOUT_MS = 120_000;

/** The error classes both SDKs export (they are generated from the same template, but are distinct classes). */
export interface SdkErrorClasses {
  APIUserAbortError: abstract new (...args: never[]) => Error;
  APIConnectionTimeoutError: abstract new (...args: never[]) => Error;
  APIError: abstract new (...args: never[]) => Error & { status: number | undefined; requestID?: string | null };
}

/** Reduces an SDK's error to a ProviderFailure; null for anything that is not an SDK API error. */
export function classifySdkError(sdk: SdkErrorClasses, e: unknown): ProviderFailure | null {
  if (e instanceof sdk.APIUserAbortError) return { kind: 'aborted' };
  if (e instanceof sdk.APIConnectionTimeoutError) return { kind: 'timeout' };
  if (e instanceof sdk.APIError) {
    return e.status === undefined ? { kind: 'connection' } : { kind: 'status', status: e.status, requestId: e.requestID };
  }
  return null;
}

/**
 * One provider call under one deadline (SDK retries included), joined with the caller's
 * signal. Whatever the SDK says, the caller's abort is `model_aborted` and our deadline is
 * `model_timeout`; other failures are classified from the SDK's error classes, and an error
 * that is none of them means the answer could not be read.
 */
export async function callWithDeadline<T>(
  provider: string,
  opts: { timeoutMs: number; signal?: AbortSignal; sdk: SdkErrorClasses },
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const deadline = startDeadline(opts.timeoutMs, opts.signal);
  try {
    return await call(deadline.signal);
  } catch (e) {
    if (deadline.callerAborted()) throw toModelError(provider, { kind: 'aborted' });
    if (deadline.timedOut()) throw toModelError(provider, { kind: 'timeout' });
    const failure = classifySdkError(opts.sdk, e);
    if (!failure) throw badResponse(provider, 'the answer could not be read');
    throw toModelError(provider, failure);
  } finally {
    deadline.clear();
  }
}
