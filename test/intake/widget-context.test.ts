import { createApp, type CreatedApp } from '../../src/intake/index.js';
import { getReport } from '../../src/store/reports.js';
import { countRows, openHarness, type Harness } from './harness.js';
import { send } from './http-client.js';

const ORIGIN = 'https://shop.example';

// Issue 14: the widget's context (failed requests, breadcrumbs, environment) is accepted,
// capped, scrubbed again on the server, and counts against the console-line limit.
describe('widget context on POST /api/v1/reports', () => {
  let h: Harness;
  let app: CreatedApp;

  beforeAll(async () => {
    h = await openHarness({
      deps: {
        rateLimits: { perReporter: { name: 'intake:reporter', limit: 1000, windowMs: 60_000 }, perIp: { name: 'intake:ip', limit: 1000, windowMs: 60_000 } },
      },
    });
    app = await createApp(h.db, h.vault, { orgId: h.orgId, name: 'Shop', origins: [ORIGIN], actor: 'test' });
  });
  afterAll(async () => h.close());

  const post = (body: unknown) =>
    send(`${h.url}/api/v1/reports`, {
      headers: { 'content-type': 'application/json', 'x-userz-key': app.publicKey, origin: ORIGIN },
      body: JSON.stringify(body),
    });

  async function expectRefused(body: unknown, code: string, message: RegExp) {
    const before = await countRows(h.db, 'reports');
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe(code);
    expect(res.json.error.message).toMatch(message);
    expect(await countRows(h.db, 'reports')).toBe(before);
  }

  const net = (i: number) => ({ method: 'GET', url: `${ORIGIN}/api/item/${i}`, status: 500, durationMs: 3, ts: i });
  const crumb = (i: number) => ({ kind: 'click', ts: i, role: 'button', text: `Add ${i}` });

  it('stores failed requests, breadcrumbs and environment, capped and scrubbed of emails, cards and tokens', async () => {
    const res = await post({
      text: 'Checkout fails',
      console: [{ level: 'error', message: 'login failed for ada@example.com', ts: 1 }],
      network: [
        {
          method: 'POST',
          url: `${ORIGIN}/api/pay?card=4111111111111111`,
          status: 402,
          durationMs: 40,
          ts: 2,
          error: 'declined for ada@example.com',
          responseBody: `{"token":"ghp_${'a'.repeat(36)}"}`,
        },
        { method: 'GET', url: `${ORIGIN}/api/${'x'.repeat(5000)}`, status: 0, ts: 3 },
      ],
      breadcrumbs: [
        { kind: 'navigation', ts: 1, url: `${ORIGIN}/cart` },
        { kind: 'click', ts: 2, role: 'button', text: 'Pay ada@example.com' },
      ],
      environment: {
        browser: 'Chrome 130',
        os: 'Linux',
        devicePixelRatio: 2,
        language: 'en-GB',
        timeZone: 'Europe/London',
        release: '1.4.2',
        custom: { plan: 'pro' },
      },
    });
    expect(res.status).toBe(201);
    const content = (await getReport(h.db, res.json.id))!.content as Record<string, any>;
    expect(content.console[0].message).toBe('login failed for [redacted email]');
    expect(content.network[0]).toMatchObject({ method: 'POST', status: 402, durationMs: 40, error: 'declined for [redacted email]' });
    expect(content.network[0].url).not.toContain('4111111111111111');
    expect(content.network[0].responseBody).not.toContain('ghp_');
    expect(Buffer.byteLength(content.network[1].url)).toBeLessThanOrEqual(2048);
    expect(content.network[1].url).toMatch(/…\[truncated \d+ bytes\]$/);
    expect(content.breadcrumbs).toEqual([
      { kind: 'navigation', ts: 1, url: `${ORIGIN}/cart` },
      { kind: 'click', ts: 2, role: 'button', text: 'Pay [redacted email]' },
    ]);
    expect(content.environment).toEqual({
      browser: 'Chrome 130',
      os: 'Linux',
      devicePixelRatio: 2,
      language: 'en-GB',
      timeZone: 'Europe/London',
      release: '1.4.2',
      custom: { plan: 'pro' },
    });
  });

  it('accepts 50 network entries and 50 breadcrumbs, and refuses 51 of either', async () => {
    const ok = await post({ text: 'x', network: Array.from({ length: 50 }, (_, i) => net(i)), breadcrumbs: Array.from({ length: 50 }, (_, i) => crumb(i)) });
    expect(ok.status).toBe(201);
    await expectRefused({ text: 'x', network: Array.from({ length: 51 }, (_, i) => net(i)) }, 'too_many_network_entries', /At most 50 network entries/);
    await expectRefused({ text: 'x', breadcrumbs: Array.from({ length: 51 }, (_, i) => crumb(i)) }, 'too_many_breadcrumbs', /At most 50 breadcrumbs/);
  });

  it('counts network entries and breadcrumbs with console lines against the 500-line limit', async () => {
    const line = { level: 'log', message: 'm', ts: 1 };
    const body = (consoleLines: number) => ({
      text: 'x',
      console: Array.from({ length: consoleLines }, () => line),
      network: Array.from({ length: 50 }, (_, i) => net(i)),
      breadcrumbs: Array.from({ length: 50 }, (_, i) => crumb(i)),
    });
    expect((await post(body(400))).status).toBe(201);
    await expectRefused(body(401), 'too_many_console_lines', /network entries and breadcrumbs together/);
  });

  it('stores a report sent twice with one Idempotency-Key once, and answers the repeat with its id', async () => {
    const send2 = (key: string) =>
      send(`${h.url}/api/v1/reports`, {
        headers: { 'content-type': 'application/json', 'x-userz-key': app.publicKey, origin: ORIGIN, 'idempotency-key': key },
        body: JSON.stringify({ text: 'retried report' }),
      });
    const before = await countRows(h.db, 'reports');
    const first = await send2('k'.repeat(24));
    expect(first.status).toBe(201);
    const again = await send2('k'.repeat(24));
    expect(again.status).toBe(200);
    expect(again.json).toEqual({ id: first.json.id, duplicate: true });
    expect(await countRows(h.db, 'reports')).toBe(before + 1);
    expect((await send2('other-key-0123456789')).status).toBe(201);
    expect(await countRows(h.db, 'reports')).toBe(before + 2);

    const bad = await send2('short');
    expect([bad.status, bad.json.error.code]).toEqual([400, 'invalid_request']);
    expect(bad.json.error.message).toMatch(/Idempotency-Key must be 16 to 64/);
    // A first attempt still being stored: the repeat is told to retry, nothing is stored.
    await h.db.query('INSERT INTO widget_submissions (app_id, idempotency_key) VALUES ($1, $2)', [app.app.id, 'inflight-key-0123456789']);
    const busy = await send2('inflight-key-0123456789');
    expect([busy.status, busy.json.error.code]).toEqual([409, 'report_in_flight']);
    expect(await countRows(h.db, 'reports')).toBe(before + 2);
  });

  it('refuses more than 50 custom context fields, and a method that is not a token', async () => {
    const custom = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]));
    await expectRefused({ text: 'x', environment: { custom } }, 'too_many_context_fields', /At most 50 custom context fields/);
    await expectRefused({ text: 'x', network: [{ ...net(1), method: 'GET /admin' }] }, 'invalid_report', /network\.0\.method/);
  });
});
