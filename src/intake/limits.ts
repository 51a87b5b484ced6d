import type { RateLimitRule } from '../security/index.js';
import { CONSOLE_MESSAGE_BYTES } from '../triage/index.js';

/** Hard input limits (DESIGN.md): the same for every channel. */
export const INTAKE_LIMITS = {
  textBytes: 8 * 1024,
  consoleLines: 500,
  /** Longer console messages are truncated with a marker at normalisation (triage's CONSOLE_MESSAGE_BYTES). */
  consoleMessageBytes: CONSOLE_MESSAGE_BYTES,
  attachments: 10,
  /** Reporter fields (name, id, plan …): a few describe a person; thousands only cost triage CPU. */
  reporterFields: 50,
  bodyBytes: 8 * 1024 * 1024,
  /** Widget context: failed requests and breadcrumbs, the last 50 of each; with console lines at most `consoleLines` together. */
  networkEntries: 50,
  breadcrumbs: 50,
  /** Custom key-values the App sets with `Userz.setContext`. */
  contextFields: 50,
} as const;

/** Rate-limit rules per App, per reporter and per IP; deps may raise them (the benchmark does). */
export interface IntakeRateLimits {
  perApp: RateLimitRule;
  perReporter: RateLimitRule;
  perIp: RateLimitRule;
  /**
   * Widget reports in public mode (no user token), per App key. Any script that sends an
   * allowed Origin can use a `pub_` key, so public traffic gets half the App's budget at
   * most and can never spend what its private-mode (signed-in) reports need.
   */
  perPublicKey: RateLimitRule;
}

export const DEFAULT_RATE_LIMITS: IntakeRateLimits = {
  perApp: { name: 'intake:app', limit: 600, windowMs: 60_000 },
  perReporter: { name: 'intake:reporter', limit: 10, windowMs: 60_000 },
  perIp: { name: 'intake:ip', limit: 30, windowMs: 60_000 },
  perPublicKey: { name: 'intake:public-key', limit: 300, windowMs: 60_000 },
};
