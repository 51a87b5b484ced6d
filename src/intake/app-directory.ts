import type { Queryable } from '../store/index.js';
import { findAppByDiscordGuild, findAppByPublicKey, findAppBySlackTeam, isOriginAllowedByAnyApp, type App } from '../store/index.js';

const TTL_MS = 10_000;

/**
 * Looks Apps up by public key, Slack workspace or Discord guild with a short in-process
 * memory, because every intake request needs its App before anything else. Changes
 * through the API call `forget`; other replicas (and OAuth installs) are seen within TTL_MS.
 */
export class AppDirectory {
  private readonly byKey = new Map<string, { app: App | null; expires: number }>();

  constructor(private readonly db: Queryable) {}

  byPublicKey(publicKey: string): Promise<App | null> {
    return this.remember(`pub:${publicKey}`, () => findAppByPublicKey(this.db, publicKey));
  }

  bySlackTeam(teamId: string): Promise<App | null> {
    return this.remember(`slack:${teamId}`, () => findAppBySlackTeam(this.db, teamId));
  }

  byDiscordGuild(guildId: string): Promise<App | null> {
    return this.remember(`discord:${guildId}`, () => findAppByDiscordGuild(this.db, guildId));
  }

  private async remember(key: string, load: () => Promise<App | null>): Promise<App | null> {
    const hit = this.byKey.get(key);
    if (hit && hit.expires > Date.now()) return hit.app;
    const app = await load();
    if (this.byKey.size > 10_000) this.byKey.clear();
    this.byKey.set(key, { app, expires: Date.now() + TTL_MS });
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

  /** Drops everything remembered: an App's key, links or origins changed. */
  forget(): void {
    this.byKey.clear();
    this.origins.clear();
  }
}
