import { UserzError } from '../errors.js';
import type { Cache } from '../store/index.js';

export interface RateLimitRule {
  /** Bucket name, e.g. `ingest:app`. */
  name: string;
  limit: number;
  windowMs: number;
}

/**
 * Fixed-window counters in the cache (Redis INCR + PEXPIRE in production). Cheap and
 * shared by every replica; a burst of up to 2× limit across a window edge is accepted.
 */
export class RateLimiter {
  constructor(private readonly cache: Cache) {}

  /** Counts one hit against every (rule, subject); throws 429 `rate_limited` when any is over. */
  async hit(checks: RateLimitCheck[]): Promise<void> {
    const now = Date.now();
    for (const { rule, subject } of checks) {
      const windowStart = Math.floor(now / rule.windowMs) * rule.windowMs;
      const count = await this.cache.increment(bucketKey(rule, subject, windowStart), rule.windowMs);
      if (count > rule.limit) throw rateLimited(rule, windowStart, now);
    }
  }

  /**
   * Throws the same 429 when any bucket has already used its whole limit, without counting.
   * For limits on outcomes (failed verifications): look first, `hit` only when it failed.
   */
  async refuseIfSpent(checks: RateLimitCheck[]): Promise<void> {
    const now = Date.now();
    for (const { rule, subject } of checks) {
      const windowStart = Math.floor(now / rule.windowMs) * rule.windowMs;
      if ((await this.cache.count(bucketKey(rule, subject, windowStart))) >= rule.limit) throw rateLimited(rule, windowStart, now);
    }
  }
}

/**
 * Removes the buckets of these (rule, subject) pairs (deletion on request: a bucket key names
 * its subject). A bucket expires windowMs after it is made inside its window, so only the
 * current and the previous window's can still exist.
 */
export async function forgetRateLimits(cache: Cache, checks: RateLimitCheck[], now = Date.now()): Promise<void> {
  for (const { rule, subject } of checks) {
    const windowStart = Math.floor(now / rule.windowMs) * rule.windowMs;
    await cache.delete(bucketKey(rule, subject, windowStart));
    await cache.delete(bucketKey(rule, subject, windowStart - rule.windowMs));
  }
}

export interface RateLimitCheck {
  rule: RateLimitRule;
  subject: string;
}

const bucketKey = (rule: RateLimitRule, subject: string, windowStart: number) => `rl:${rule.name}:${subject}:${windowStart}`;

function rateLimited(rule: RateLimitRule, windowStart: number, now: number): UserzError {
  const retryAfterSeconds = Math.max(1, Math.ceil((windowStart + rule.windowMs - now) / 1000));
  return new UserzError('rate_limited', `Too many requests (${rule.name}); retry after ${retryAfterSeconds} s`, {
    retryable: true,
    details: { retryAfterSeconds, bucket: rule.name },
  });
}
