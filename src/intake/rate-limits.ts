import { RateLimiter, type RateLimitCheck } from '../security/index.js';
import type { IntakeDeps } from './deps.js';
import { DEFAULT_RATE_LIMITS, type IntakeRateLimits } from './limits.js';

/** The intake buckets; each check counts one hit and throws 429 `rate_limited` when over. */
export class IntakeLimiter {
  private readonly limiter: RateLimiter;
  readonly rules: IntakeRateLimits;

  constructor(deps: Pick<IntakeDeps, 'cache' | 'rateLimits'>) {
    this.limiter = new RateLimiter(deps.cache);
    this.rules = { ...DEFAULT_RATE_LIMITS, ...deps.rateLimits };
  }

  /**
   * Narrowest bucket first: a hit stops counting at the first spent bucket, so one
   * address, or public-mode traffic, that is already refused no longer drains the App's
   * shared budget.
   */
  async checkAppAndIp(appId: string, ip: string | null, opts: { publicMode?: boolean } = {}): Promise<void> {
    const checks: RateLimitCheck[] = [];
    if (ip) checks.push({ rule: this.rules.perIp, subject: ip });
    if (opts.publicMode) checks.push({ rule: this.rules.perPublicKey, subject: appId });
    checks.push({ rule: this.rules.perApp, subject: appId });
    await this.limiter.hit(checks);
  }

  async checkReporter(appId: string, reporterKey: string): Promise<void> {
    await this.limiter.hit([{ rule: this.rules.perReporter, subject: `${appId}:${reporterKey}` }]);
  }
}
