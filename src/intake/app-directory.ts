import type { Queryable } from '../store/index.js';
import { findAppByPublicKey, isOriginAllowedByAnyApp, type App } from '../store/apps.js';

const TTL_MS = 10_000;

/**
 * Looks Apps up by public key with a short in-process memory, because every widget
 * request needs its App (origins) before anything else. Changes through the API call
 * `forget`; other replicas see them within TTL_MS.
 */
export class AppDirectory {
  private readonly byKey = new Map<string, { app: App | null; expires: number }>();

  constructor(private readonly db: Queryable) {}

  async byPublicKey(publicKey: string): Promise<App | null> {
    const hit = this.byKey.get(publicKey);
    if (hit && hit.expires > Date.now()) return hit.app;
    const app = await findAppByPublicKey(this.db, publicKey);
    if (this.byKey.size > 10_000) this.byKey.clear();
    this.byKey.set(publicKey, { app, expires: Date.now() + TTL_MS });
    return app;
  }

  private readonly origins = new Map<string, { allowed: boolean; expires: number }>();

  async isOriginKnown(origin: string): Promise<boolean> {
    const hit = this.origins.get(origin);
    if (hit && hit.expires > Date.now()) return hit.allowed;
    const allowed = await isOriginAllowedByAnyApp(this.db, origin);
    if (this.origins.size > 10_000) this.origins.clear();
    this.origins.set(origin, { allowed, expires: Date.now() + TTL_MS });
    return allowed;
  }

  forget(publicKey: string): void {
    this.byKey.delete(publicKey);
    this.origins.clear();
  }
}
