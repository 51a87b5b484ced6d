import type { IncomingMessage } from 'node:http';
import { RateLimiter } from '../security/index.js';
import type { IntakeDeps } from './deps.js';
import { DEFAULT_RATE_LIMITS, type IntakeRateLimits } from './limits.js';

/** The three intake buckets; each check counts one hit and throws 429 `rate_limited` when over. */
export class IntakeLimiter {
  private readonly limiter: RateLimiter;
  readonly rules: IntakeRateLimits;

  constructor(deps: Pick<IntakeDeps, 'cache' | 'rateLimits'>) {
    this.limiter = new RateLimiter(deps.cache);
    this.rules = { ...DEFAULT_RATE_LIMITS, ...deps.rateLimits };
  }

  async checkAppAndIp(appId: string, ip: string | null): Promise<void> {
    const checks = [{ rule: this.rules.perApp, subject: appId }];
    if (ip) checks.push({ rule: this.rules.perIp, subject: ip });
    await this.limiter.hit(checks);
  }

  async checkReporter(appId: string, reporterKey: string): Promise<void> {
    await this.limiter.hit([{ rule: this.rules.perReporter, subject: `${appId}:${reporterKey}` }]);
  }
}

/** The caller's address; X-Forwarded-For only when the deployment says a trusted proxy sets it. */
export function clientIp(req: IncomingMessage, trustProxy = false): string | null {
  if (trustProxy) {
    const xff = req.headers['x-forwarded-for'];
    const first = (Array.isArray(xff) ? xff[0] : xff)?.split(',')[0]?.trim();
    if (first) return first;
  }
  return req.socket.remoteAddress ?? null;
}
