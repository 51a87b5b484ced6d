import type { Cache } from '../store/cache.js';

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
