import { RateLimiter, ReplayGuard } from '../../src/security/index.js';
import { createCache, type Cache } from '../../src/store/index.js';
import { TEST_REDIS_URL } from '../helpers/db.js';

const CACHES: Array<[string, () => Cache]> = [
  ['memory', () => createCache({ kind: 'memory' }, `t${Math.random()}`)],
  ['redis', () => createCache({ kind: 'redis', url: TEST_REDIS_URL }, `t${Math.random().toString(36).slice(2)}`)],
];

describe.each(CACHES)('replay guard and rate limits on the %s cache', (_name, make) => {
  let cache: Cache;
  beforeEach(() => {
    cache = make();
  });
  afterEach(async () => cache.close());

  it('lets a delivery id through once, even when 50 arrive at the same time', async () => {
    const guard = new ReplayGuard(cache);
    const results = await Promise.all(Array.from({ length: 50 }, () => guard.firstSighting('slack', 'req-1')));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await guard.firstSighting('slack', 'req-2')).toBe(true);
    expect(await guard.firstSighting('discord', 'req-1')).toBe(true);
  });

  it('forgets a delivery id after its window', async () => {
    const guard = new ReplayGuard(cache, 50);
    expect(await guard.firstSighting('gitlab', 'x')).toBe(true);
    await new Promise((r) => setTimeout(r, 120));
    expect(await guard.firstSighting('gitlab', 'x')).toBe(true);
  });

  it('answers 429 with Retry-After details past the limit, per subject', async () => {
    const limiter = new RateLimiter(cache);
    const rule = { name: 'ingest:ip', limit: 3, windowMs: 60_000 };
    for (let i = 0; i < 3; i++) await limiter.hit([{ rule, subject: '10.0.0.1' }]);
    await expect(limiter.hit([{ rule, subject: '10.0.0.1' }])).rejects.toMatchObject({ code: 'rate_limited', status: 429 });
    const err = await limiter.hit([{ rule, subject: '10.0.0.1' }]).catch((e: unknown) => e);
    expect((err as { details: { retryAfterSeconds: number } }).details.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    await expect(limiter.hit([{ rule, subject: '10.0.0.2' }])).resolves.toBeUndefined();
  });
});
