import { RateLimiter, ReplayGuard, SIGNED_REQUEST_REPLAY_TTL_MS } from '../../src/security/index.js';
import { createCache, type Cache } from '../../src/store/index.js';
import { ExpiringMap } from '../../src/store/expiring-map.js';

/** A clock the test moves by hand. */
function fakeClock(start = 1_700_000_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('memory cache expiry by time', () => {
  let clock: ReturnType<typeof fakeClock>;
  let cache: Cache;
  beforeEach(() => {
    clock = fakeClock();
    cache = createCache({ kind: 'memory', now: clock.now }, `t${Math.random()}`);
  });
  afterEach(async () => cache.close());

  it('drops replay marks after their TTL, far below any count bound', async () => {
    const guard = new ReplayGuard(cache, 60_000);
    for (let i = 0; i < 1_000; i++) expect(await guard.firstSighting('slack', `sig-${i}`)).toBe(true);
    expect(cache.memoryEntries!()).toBe(1_000);
    expect(await guard.firstSighting('slack', 'sig-7')).toBe(false);

    clock.advance(60_001);
    // The next write sweeps: only the new mark is held.
    expect(await guard.firstSighting('slack', 'after')).toBe(true);
    expect(cache.memoryEntries!()).toBe(1);
    expect(await guard.firstSighting('slack', 'sig-7')).toBe(true);
  });

  it('drops rate-limit counters of past windows', async () => {
    const limiter = new RateLimiter(cache);
    const rule = { name: 'ingest:ip', limit: 5, windowMs: 60_000 };
    for (let i = 0; i < 500; i++) await limiter.hit([{ rule, subject: `10.0.${Math.floor(i / 250)}.${i % 250}` }]);
    expect(cache.memoryEntries!()).toBe(500);
    clock.advance(2 * 60_000);
    await limiter.hit([{ rule, subject: '10.9.9.9' }]);
    expect(cache.memoryEntries!()).toBe(1);
  });

  it('drops keyv values (state nonces, sessions) that were never read again', async () => {
    for (let i = 0; i < 200; i++) await cache.set(`slack-state:${i}`, { appId: 'app_1' }, 10 * 60_000);
    expect(await cache.get('slack-state:3')).toEqual({ appId: 'app_1' });
    clock.advance(10 * 60_000 + 1);
    expect(await cache.get('slack-state:3')).toBeUndefined();
    await cache.set('other', 1, 1_000);
    expect(cache.memoryEntries!()).toBe(1);
  });

  it('keeps Slack and Discord replay marks for the 300 s signature window and forgets them after 10 minutes', async () => {
    const guard = new ReplayGuard(cache, SIGNED_REQUEST_REPLAY_TTL_MS);
    expect(await guard.firstSighting('discord', '1001')).toBe(true);
    clock.advance(300_000);
    expect(await guard.firstSighting('discord', '1001')).toBe(false);
    clock.advance(SIGNED_REQUEST_REPLAY_TTL_MS);
    expect(await guard.firstSighting('discord', '1001')).toBe(true);
  });
});

describe('ExpiringMap', () => {
  it('keeps an entry without a TTL until it is deleted', () => {
    const clock = fakeClock();
    const map = new ExpiringMap<number>({ now: clock.now, sweepEveryMs: 1 });
    map.set('forever', 1);
    map.set('short', 2, 10);
    clock.advance(1_000_000);
    map.set('trigger', 3, 10);
    expect(map.get('forever')).toBe(1);
    expect(map.get('short')).toBeUndefined();
    expect(map.size).toBe(2);
    expect(map.delete('forever')).toBe(true);
    expect(map.has('forever')).toBe(false);
  });
});
