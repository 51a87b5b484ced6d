import type { Cache } from '../store/index.js';

/**
 * For signed chat requests (Slack v0, Discord Ed25519): both carry a timestamp that is
 * refused outside a 300 s window, and neither provider retries an interaction later than
 * that, so a mark only has to outlive the window; twice it covers clock skew both ways.
 * Keeping such marks 24 h held ~288 times more of them in memory under steady load.
 */
export const SIGNED_REQUEST_REPLAY_TTL_MS = 10 * 60_000;

/**
 * Remembers delivery ids for a window; the first sighting wins. Backed by the cache
 * (Redis SET NX in production), so every web replica shares one memory. Durable
 * de-duplication for GitHub deliveries is the webhook_deliveries table; this guard is
 * the fast path for every provider.
 */
export class ReplayGuard {
  constructor(
    private readonly cache: Cache,
    private readonly ttlMs = 24 * 3600 * 1000,
  ) {}

  /** True the first time (provider, id) is seen within the window, false after. */
  async firstSighting(provider: string, deliveryId: string): Promise<boolean> {
    return this.cache.setIfAbsent(`replay:${provider}:${deliveryId}`, 1, this.ttlMs);
  }
}
