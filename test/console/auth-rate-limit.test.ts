import { randomBytes } from 'node:crypto';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { consoleOrigin, postForm } from '../helpers/console-session.js';

// The auth actions are limited to 10 per 15 minutes per client address, with the counters in
// Redis: two app instances (replicas) sharing it share the limit.
/** The auth limit's window: 10 requests per 15 minutes per address. */
const AUTH_WINDOW_MS = 15 * 60_000;

describe('console auth rate limit across two replicas', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    const cacheNamespace = `test-rl-${randomBytes(4).toString('hex')}`;
    // Behind a trusted proxy, the address is X-Forwarded-For's last entry: each test uses its own.
    const env = { USERZ_TRUST_PROXY: 'true' };
    a = await startTestApp({ db: 'pglite', cache: 'redis', cacheNamespace, env });
    b = await startTestApp({ db: 'pglite', cache: 'redis', cacheNamespace, env });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  const signIn = (app: TestApp, ip: string) =>
    postForm(app, '/sign-in', { email: 'nobody@example.test', password: 'wrong password!' }, { headers: { 'x-forwarded-for': ip } });

  it('answers the 11th sign-in from one address within 15 minutes 429 with Retry-After, counted across both replicas and both doors', async () => {
    const ip = '203.0.113.7';
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await signIn(a, ip)).status);
    for (let i = 0; i < 4; i++) statuses.push((await signIn(b, ip)).status);
    // better-auth's own endpoint counts in the same bucket.
    for (const app of [a, b]) {
      const r = await fetch(`${app.url}/api/auth/sign-in/email`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: consoleOrigin(app), 'x-forwarded-for': ip },
        body: JSON.stringify({ email: 'nobody@example.test', password: 'wrong password!' }),
      });
      statuses.push(r.status);
    }
    expect(statuses).toHaveLength(10);
    expect(statuses.every((s) => s === 401)).toBe(true);

    const eleventh = await signIn(a, ip);
    expect(eleventh.status).toBe(429);
    const retryAfter = Number(eleventh.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    expect(await eleventh.text()).toContain('data-code="rate_limited"');

    const api = await fetch(`${b.url}/api/auth/sign-in/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: consoleOrigin(b), 'x-forwarded-for': ip },
      body: JSON.stringify({ email: 'nobody@example.test', password: 'wrong password!' }),
    });
    expect(api.status).toBe(429);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    expect(api.headers.get('retry-after')).toBeTruthy();

    // Another address is not affected.
    expect((await signIn(b, '203.0.113.8')).status).toBe(401);
  });

  it('limits sign-up, reset requests and verification re-sends the same way', async () => {
    for (const [ip, path, form] of [
      ['198.51.100.1', '/sign-up', { name: 'x', email: 'x@example.test', password: 'short' }],
      ['198.51.100.2', '/reset-password/request', { email: 'x@example.test' }],
      ['198.51.100.3', '/verify/resend', { email: 'x@example.test' }],
    ] as const) {
      // The limiter counts in fixed 15-minute windows: eleven requests that straddle a window's
      // end are two buckets. When that happens, the round is repeated from a fresh address
      // (at most once: eleven requests never span two window ends).
      for (let round = 0; ; round++) {
        const from = round === 0 ? ip : `${ip}0`;
        const windowAtStart = Math.floor(Date.now() / AUTH_WINDOW_MS);
        const statuses: number[] = [];
        for (let i = 0; i < 11; i++) statuses.push((await postForm(i % 2 ? a : b, path, form, { headers: { 'x-forwarded-for': from } })).status);
        if (round === 0 && Math.floor(Date.now() / AUTH_WINDOW_MS) !== windowAtStart) continue;
        expect(statuses.slice(0, 10).includes(429)).toBe(false);
        expect(statuses[10]).toBe(429);
        break;
      }
    }
  });
});
