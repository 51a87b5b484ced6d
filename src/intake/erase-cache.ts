import { DEFAULT_API_KEY_LIMITS, forgetRateLimits, type RateLimitCheck } from '../security/index.js';
import type { Cache, planErasure } from '../store/index.js';
import { FAILED_LINK_ATTEMPTS } from './chat-links.js';
import { DEFAULT_RATE_LIMITS } from './limits.js';

type CacheSubjects = Awaited<ReturnType<typeof planErasure>>['cacheSubjects'];

/**
 * Removes the cache entries keyed by what an erasure deleted (lifecycle/erase.ts calls it
 * through the hook main.ts gives it; lifecycle does not import intake): the intake buckets of its Apps
 * (per App, per public key) and of its reporters (per App and reporter key), the failed
 * verification buckets of its `sk_` keys and the failed link-code buckets of its chat
 * workspaces, at their default rules. Entries whose key cannot be computed from what is
 * stored (replay marks keyed by a signature or delivery id, per-address buckets, Slack
 * install states keyed by a nonce) expire on their own: the README's deletion section lists them.
 */
export async function forgetErasedCacheEntries(cache: Cache, subjects: CacheSubjects, now = Date.now()): Promise<number> {
  const checks: RateLimitCheck[] = [
    ...subjects.appIds.flatMap((appId) => [
      { rule: DEFAULT_RATE_LIMITS.perApp, subject: appId },
      { rule: DEFAULT_RATE_LIMITS.perPublicKey, subject: appId },
    ]),
    ...subjects.reporters.map((r) => ({ rule: DEFAULT_RATE_LIMITS.perReporter, subject: `${r.appId}:${r.reporterKey}` })),
    ...subjects.apiKeyPrefixes.map((prefix) => ({ rule: DEFAULT_API_KEY_LIMITS.failuresPerPrefix, subject: prefix })),
    ...subjects.chatWorkspaces.map((workspace) => ({ rule: FAILED_LINK_ATTEMPTS, subject: workspace })),
  ];
  await forgetRateLimits(cache, checks, now);
  return checks.length;
}
