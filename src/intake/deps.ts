import type { Logger } from 'pino';
import type { ApiRoutes } from '../api/index.js';
import type { Config } from '../config/index.js';
import type { ApiKeyLimits, ApiKeyVerifier, Vault } from '../security/index.js';
import type { BlobStore, Cache, Db } from '../store/index.js';
import type { IntakeRateLimits } from './limits.js';

/** What registerIntakeRoutes needs; the composition root (src/main.ts) builds it once. */
export interface IntakeDeps {
  db: Db;
  cache: Cache;
  blobs: BlobStore;
  vault: Vault;
  log: Logger;
  config: Pick<Config, 'publicUrl' | 'slack' | 'discord'>;
  /** fetch used for Slack/Discord API calls (tests and benches pass the global one, nock intercepts it). */
  notifierFetch?: typeof fetch;
  /** Overrides for the default rate limits (the benchmark raises them). */
  rateLimits?: Partial<IntakeRateLimits>;
  /** How long Slack/Discord handlers wait for the store before answering "received, confirmation follows". */
  chatAckMs?: number;
  /** Use the X-Forwarded-For address our proxy appended as the client IP (only behind a trusted proxy). */
  trustProxy?: boolean;
  /** `sk_` verification with failure limits and a hash gate; src/main.ts shares one with the review routes. Absent: the App API builds its own on `cache`. */
  apiKeys?: ApiKeyVerifier;
  /** The process's `/api/v1` registry (src/main.ts), so the App routes are in its OpenAPI document. Absent: intake declares them on a registry of its own. */
  api?: ApiRoutes;
  /** Overrides for the failed-verification limits of `sk_` keys (tests narrow them). */
  apiKeyLimits?: Partial<ApiKeyLimits>;
  /** Slack/Discord API base URLs, for tests against a local fake; defaults are the public services. */
  slackApiUrl?: string;
  discordApiUrl?: string;
  /** Where stored reports are counted (src/metrics, wired in main.ts); absent: not counted. */
  metrics?: IntakeMetrics;
}

/** Intake's metrics port: the label is the report's source (widget, api, slack, discord), never its content. */
export interface IntakeMetrics {
  reportAccepted(source: string): void;
  /** A chat report refused inside a 200 answer (the ephemeral message), by its error code. */
  reportRefused(channel: string, code: string): void;
}
