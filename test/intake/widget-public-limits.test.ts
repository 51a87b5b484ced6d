import { SignJWT } from 'jose';
import { createApp, type CreatedApp } from '../../src/intake/index.js';
import { openHarness, type Harness } from './harness.js';
import { send } from './http-client.js';

// Opening a database and server can be slow on a loaded shared machine; no test asserts time.
const SETUP_TIMEOUT_MS = 120_000;

const ORIGIN = 'https://shop.example';
// Fixed windows start at multiples of their length: one of ten years never rolls over mid-test.
const rule = (name: string, limit: number) => ({ name, limit, windowMs: 10 * 365 * 24 * 3600_000 });
let seq = 0;

/** Widget limits behind a trusted proxy, which appends the address it saw to X-Forwarded-For. */
describe('public-mode widget rate limits', () => {
  let h: Harness;
  let app: CreatedApp;
  beforeAll(async () => {
    h = await openHarness({
      deps: {
        trustProxy: true,
        rateLimits: {
          perIp: rule('intake:ip', 2),
          perApp: rule('intake:app', 6),
          perPublicKey: rule('intake:public-key', 4),
          perReporter: rule('intake:reporter', 1000),
        },
      },
    });
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => h.close());
  // A new App per test: its own per-App and per-key buckets (the addresses differ per test too).
  beforeEach(async () => {
    app = await createApp(h.db, h.vault, { orgId: h.orgId, name: 'Shop', origins: [ORIGIN], actor: 'test' });
  });
  const reportsOf = async () => Number((await h.db.query<{ n: string }>('SELECT count(*)::text AS n FROM reports WHERE app_id = $1', [app.app.id]))[0]!.n);

  const publicReport = (forwardedFor: string) =>
    send(`${h.url}/api/v1/reports`, {
      headers: { 'content-type': 'application/json', 'x-userz-key': app.publicKey, origin: ORIGIN, 'x-forwarded-for': forwardedFor },
      // A fresh reporter id each time: in public mode the id is the caller's own claim.
      body: JSON.stringify({ text: 'x', reporter: { id: `r${++seq}` } }),
    });

  const privateReport = async (forwardedFor: string) => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('user-1')
      .setAudience(app.app.id)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(app.signingSecret));
    return send(`${h.url}/api/v1/reports`, {
      headers: { 'content-type': 'application/json', 'x-userz-key': app.publicKey, 'x-userz-user-token': token, 'x-forwarded-for': forwardedFor },
      body: JSON.stringify({ text: 'signed-in report' }),
    });
  };

  async function expectLimited(res: Awaited<ReturnType<typeof send>>) {
    expect(res.status).toBe(429);
    expect(res.json.error.code).toBe('rate_limited');
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  }

  it('limits per client address even when the caller writes its own X-Forwarded-For entries', async () => {
    expect((await publicReport('10.0.0.1, 203.0.113.7')).status).toBe(201);
    expect((await publicReport('10.0.0.2, 203.0.113.7')).status).toBe(201);
    await expectLimited(await publicReport('10.0.0.3, 203.0.113.7'));
    await expectLimited(await publicReport('203.0.113.7'));
    expect(await reportsOf()).toBe(2);
  });

  it("refused requests from one address do not drain the App's budget for everyone else", async () => {
    for (let i = 0; i < 2; i++) expect((await publicReport('203.0.113.8')).status).toBe(201);
    for (let i = 0; i < 6; i++) await expectLimited(await publicReport('203.0.113.8'));
    expect((await publicReport('198.51.100.1')).status).toBe(201);
    expect((await publicReport('198.51.100.2')).status).toBe(201);
    expect(await reportsOf()).toBe(4);
  });

  it('gives public-mode traffic its own per-key budget, so signed-in reports still get through', async () => {
    for (let i = 0; i < 4; i++) expect((await publicReport(`198.51.100.${10 + i}`)).status).toBe(201);
    for (let i = 4; i < 8; i++) {
      const res = await publicReport(`198.51.100.${10 + i}`);
      await expectLimited(res);
      expect(res.json.error.message).toContain('intake:public-key');
    }
    expect((await privateReport('192.0.2.1')).status).toBe(201);
    expect((await privateReport('192.0.2.2')).status).toBe(201);
    expect(await reportsOf()).toBe(6);
  });
});
