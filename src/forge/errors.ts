/**
 * Forge failures as UserzErrors with stable codes. Messages name the forge, the HTTP status
 * and a fixed operation label: never a URL with credentials, a token or a response body.
 */
import { UserzError } from '../errors.js';
import type { ForgeErrorCode } from './error-codes.js';

export type ForgeLabel = 'GitHub' | 'GitLab';

export function forgeHttpError(forge: ForgeLabel, status: number, operation: string, extra: { rateLimited?: boolean; retryAfterMs?: number } = {}): UserzError {
  const details = { forge, status, operation, ...(extra.retryAfterMs === undefined ? {} : { retryAfterMs: extra.retryAfterMs }) };
  const say = (what: string): string => `${forge} ${what} (${status}) during ${operation}`;
  if (status === 429 || (status === 403 && extra.rateLimited)) {
    return new UserzError('forge_rate_limited', say('rate limit reached'), { retryable: true, details });
  }
  if (status >= 500) return new UserzError('forge_unavailable', say('is unavailable'), { retryable: true, details });
  if (status === 401) return new UserzError('forge_unauthorized', say('rejected the credentials'), { details });
  if (status === 403) return new UserzError('forge_forbidden', say('refused access'), { details });
  if (status === 404) return new UserzError('forge_not_found', say('found nothing'), { details });
  if (status === 409 || status === 422) return new UserzError('forge_conflict', say('refused the change'), { details });
  return new UserzError('forge_rejected', say('rejected the request'), { details });
}

/** A request that got no HTTP answer at all (DNS, reset, timeout). */
export function forgeNetworkError(forge: ForgeLabel, operation: string): UserzError {
  return new UserzError('forge_unavailable', `${forge} could not be reached during ${operation}`, { retryable: true, details: { forge, operation } });
}

export const isForgeCode = (e: unknown, code: ForgeErrorCode): boolean => e instanceof UserzError && e.code === code;
