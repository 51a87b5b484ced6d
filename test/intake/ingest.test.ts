import { readdirSync } from 'node:fs';
import { SignJWT } from 'jose';
import { acceptReport, createApp, type CreatedApp } from '../../src/intake/index.js';
import { getReport } from '../../src/store/reports.js';
import type { Db, Queryable } from '../../src/store/index.js';
import { countRows, openHarness, type Harness } from './harness.js';
import { send } from './http-client.js';

const ORIGIN = 'https://shop.example';
const MB8 = 8 * 1024 * 1024;

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name);
}

describe('POST /api/v1/reports', () => {
  let h: Harness;
  let app: CreatedApp;
  let other: CreatedApp;

  beforeAll(async () => {
    h = await openHarness({
      deps: {
        rateLimits: { perReporter: { name: 'intake:reporter', limit: 1000, windowMs: 60_000 }, perIp: { name: 'intake:ip', limit: 1000, windowMs: 60_000 } },
      },
    });
    app = await createApp(h.db, h.vault, { orgId: h.orgId, name: 'Shop', origins: [ORIGIN], actor: 'test' });
    other = await createApp(h.db, h.vault, { orgId: h.orgId, name: 'Other', origins: ['https://other.example'], actor: 'test' });
  });
  afterAll(async () => h.close());

  const headers = (extra: Record<string, string> = {}) => ({ 'content-type': 'application/json', 'x-userz-key': app.publicKey, origin: ORIGIN, ...extra });
  const post = (body: unknown, extra: Record<string, string> = {}) =>
    send(`${h.url}/api/v1/reports`, { headers: headers(extra), body: typeof body === 'string' ? body : JSON.stringify(body) });

  async function expectRefused(res: Awaited<ReturnType<typeof send>>, status: number, code: string, before: number) {
    expect(res.status).toBe(status);
    expect(res.json.error.code).toBe(code);
    expect(typeof res.json.error.message).toBe('string');
    expect(await countRows(h.db, 'reports')).toBe(before);
  }

  it('stores a public-mode report from an allowed origin, enqueues triage and answers 201 with CORS for that origin', async () => {
    const res = await post({
      text: 'Checkout button does nothing',
      console: [{ level: 'error', message: 'TypeError: x is undefined', ts: 1 }],
      page: { url: `${ORIGIN}/cart`, userAgent: 'UA', viewport: { width: 800, height: 600 } },
    });
    expect(res.status).toBe(201);
    expect(res.json.id).toMatch(/^rep_/);
    expect(res.json.statusToken).toMatch(/^rst_/);
    expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    const report = await getReport(h.db, res.json.id);
    expect(report).toMatchObject({ appId: app.app.id, source: 'widget', replyTo: { kind: 'widget' } });
    expect(report!.content).toMatchObject({ text: 'Checkout button does nothing', page: { url: `${ORIGIN}/cart` } });
    const jobs = await h.db.query<{ kind: string; key: string }>('SELECT kind, key FROM jobs WHERE key = $1', [`triage:${res.json.id}`]);
    expect(jobs).toEqual([{ kind: 'triage', key: `triage:${res.json.id}` }]);
  });

  it('refuses an origin that is not on the App allowlist, without CORS headers', async () => {
    const before = await countRows(h.db, 'reports');
    const res = await post({ text: 'hi' }, { origin: 'https://evil.example' });
    await expectRefused(res, 403, 'origin_not_allowed', before);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    // Another App's origin is not this App's origin.
    await expectRefused(await post({ text: 'hi' }, { origin: 'https://other.example' }), 403, 'origin_not_allowed', before);
  });

  it('refuses a public-mode report with no Origin at all', async () => {
    const before = await countRows(h.db, 'reports');
    const res = await send(`${h.url}/api/v1/reports`, {
      headers: { 'content-type': 'application/json', 'x-userz-key': app.publicKey },
      body: JSON.stringify({ text: 'hi' }),
    });
    await expectRefused(res, 403, 'origin_not_allowed', before);
  });

  it('answers a preflight for a known origin and refuses one for an unknown origin', async () => {
    const ok = await send(`${h.url}/api/v1/reports`, {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-userz-key' },
    });
    expect(ok.status).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(String(ok.headers['access-control-allow-headers'])).toContain('x-userz-user-token');
    const bad = await send(`${h.url}/api/v1/reports`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(bad.status).toBe(403);
    expect(bad.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers missing_key and unknown_key', async () => {
    const before = await countRows(h.db, 'reports');
    await expectRefused(
      await send(`${h.url}/api/v1/reports`, { headers: { 'content-type': 'application/json', origin: ORIGIN }, body: '{"text":"x"}' }),
      401,
      'missing_key',
      before,
    );
    await expectRefused(await post({ text: 'x' }, { 'x-userz-key': 'pub_doesnotexist000000000000' }), 401, 'unknown_key', before);
  });

  it('answers malformed_json, unsupported_media_type and invalid_report', async () => {
    const before = await countRows(h.db, 'reports');
    await expectRefused(await post('{"text": "unterminated'), 400, 'malformed_json', before);
    await expectRefused(await post({ text: 'x' }, { 'content-type': 'text/plain' }), 415, 'unsupported_media_type', before);
    await expectRefused(await post({ text: 'x', console: [{ level: 'shout', message: 'x' }] }), 400, 'invalid_report', before);
    await expectRefused(await post({ text: '   ' }), 400, 'invalid_report', before);
    await expectRefused(await post([1, 2]), 400, 'invalid_report', before);
  });

  it('accepts text of exactly 8 KB and refuses one byte more', async () => {
    expect((await post({ text: 'a'.repeat(8192) })).status).toBe(201);
    // The cap counts UTF-8 bytes: 4096 × 'é' (2 bytes each) is exactly 8 KB, 4097 is over.
    expect((await post({ text: 'é'.repeat(4096) })).status).toBe(201);
    const before = await countRows(h.db, 'reports');
    await expectRefused(await post({ text: 'a'.repeat(8193) }), 400, 'text_too_long', before);
    await expectRefused(await post({ text: 'é'.repeat(4097) }), 400, 'text_too_long', before);
  });

  it('accepts 500 console lines and refuses 501', async () => {
    const line = { level: 'log', message: 'm', ts: 1 };
    const ok = await post({ text: 'x', console: Array.from({ length: 500 }, () => line) });
    expect(ok.status).toBe(201);
    expect(((await getReport(h.db, ok.json.id))!.content.console as unknown[]).length).toBe(500);
    const before = await countRows(h.db, 'reports');
    await expectRefused(await post({ text: 'x', console: Array.from({ length: 501 }, () => line) }), 400, 'too_many_console_lines', before);
  });

  it('accepts 10 attachments, stores them as blobs, and refuses 11', async () => {
    const att = (i: number) => ({ name: `file${i}.txt`, contentType: 'text/plain', data: Buffer.from(`attachment ${i}`).toString('base64') });
    const ok = await post({ text: 'x', attachments: Array.from({ length: 10 }, (_, i) => att(i)) });
    expect(ok.status).toBe(201);
    const report = await getReport(h.db, ok.json.id);
    expect(report!.attachments).toHaveLength(10);
    expect((await h.blobs.get(report!.attachments[3]!.blobKey))!.toString()).toBe('attachment 3');
    const before = await countRows(h.db, 'reports');
    const files = listFiles(h.blobDir).length;
    await expectRefused(await post({ text: 'x', attachments: Array.from({ length: 11 }, (_, i) => att(i)) }), 400, 'too_many_attachments', before);
    expect(listFiles(h.blobDir).length).toBe(files);
  });

  it('refuses attachments with a path in the name or an unknown content type', async () => {
    const before = await countRows(h.db, 'reports');
    await expectRefused(
      await post({ text: 'x', attachments: [{ name: '../../etc/passwd', contentType: 'text/plain', data: 'eA==' }] }),
      400,
      'invalid_report',
      before,
    );
    await expectRefused(await post({ text: 'x', attachments: [{ name: 'a.html', contentType: 'text/html', data: 'eA==' }] }), 400, 'invalid_report', before);
  });

  it('accepts a body just under 8 MB', async () => {
    const envelope = JSON.stringify({ text: 'big', attachments: [{ name: 'shot.png', contentType: 'image/png', data: '' }] });
    const room = MB8 - Buffer.byteLength(envelope) - 16;
    const data = 'A'.repeat(room - (room % 4));
    const res = await post({ text: 'big', attachments: [{ name: 'shot.png', contentType: 'image/png', data }] });
    expect(res.status).toBe(201);
    const report = await getReport(h.db, res.json.id);
    expect(report!.attachments[0]!.size).toBe((data.length / 4) * 3);
  });

  it('refuses a body over 8 MB declared by Content-Length, storing nothing', async () => {
    const before = await countRows(h.db, 'reports');
    const files = listFiles(h.blobDir).length;
    const res = await post(JSON.stringify({ text: 'x', pad: 'a'.repeat(MB8) }));
    await expectRefused(res, 413, 'body_too_large', before);
    expect(listFiles(h.blobDir).length).toBe(files);
  });

  it('stops reading a chunked body at 8 MB, storing nothing', async () => {
    const before = await countRows(h.db, 'reports');
    let sent = 0;
    const chunk = Buffer.alloc(256 * 1024, 0x61);
    const res = await send(`${h.url}/api/v1/reports`, {
      headers: { ...headers(), 'transfer-encoding': 'chunked' },
      body: async function* () {
        yield Buffer.from('{"text":"x","pad":"');
        // 64 MB offered; the server must answer long before we finish.
        while (sent < 64 * 1024 * 1024) {
          sent += chunk.length;
          yield chunk;
        }
      },
    });
    await expectRefused(res, 413, 'body_too_large', before);
  });

  describe('private mode', () => {
    const secretKey = (c: CreatedApp) => new TextEncoder().encode(c.signingSecret);
    const token = (opts: { app?: CreatedApp; aud?: string; exp?: number | null; key?: Uint8Array; sub?: string } = {}) => {
      const forApp = opts.app ?? app;
      let jwt = new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(opts.sub ?? 'user-42')
        .setAudience(opts.aud ?? forApp.app.id)
        .setIssuedAt();
      if (opts.exp !== null) jwt = jwt.setExpirationTime(opts.exp ?? Math.floor(Date.now() / 1000) + 300);
      return jwt.sign(opts.key ?? secretKey(forApp));
    };

    it('stores a report with a valid user token and keys it to the verified user', async () => {
      const res = await post({ text: 'private report', reporter: { id: 'spoofed' } }, { 'x-userz-user-token': await token() });
      expect(res.status).toBe(201);
      const report = await getReport(h.db, res.json.id);
      expect(report!.reporterKey).toBe('user:user-42');
      expect(report!.content.reporter).toMatchObject({ id: 'user-42', verified: true });
    });

    it('accepts a server-to-server report with a user token and no Origin', async () => {
      const res = await send(`${h.url}/api/v1/reports`, {
        headers: { 'content-type': 'application/json', 'x-userz-key': app.publicKey, 'x-userz-user-token': await token() },
        body: JSON.stringify({ text: 'from backend' }),
      });
      expect(res.status).toBe(201);
    });

    it.each([
      ['a wrong signature', () => token({ key: new TextEncoder().encode('uzsig_not-the-secret-at-all-0000000000000000') })],
      ['an expired token (beyond the clock skew)', () => token({ exp: Math.floor(Date.now() / 1000) - 120 })],
      ['no exp claim', () => token({ exp: null })],
      ['another App’s audience', () => token({ aud: 'app_someoneelse' })],
      ['a token signed for another App', () => token({ app: other })],
      [
        'alg none',
        async () =>
          `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'u', aud: app.app.id, exp: 9999999999 })).toString('base64url')}.`,
      ],
      ['garbage', async () => 'not.a.jwt'],
    ])('refuses %s with invalid_user_token', async (_name, make) => {
      const before = await countRows(h.db, 'reports');
      await expectRefused(await post({ text: 'x' }, { 'x-userz-user-token': await make() }), 401, 'invalid_user_token', before);
    });

    it('accepts a token expired within the 30 s clock skew', async () => {
      const res = await post({ text: 'x' }, { 'x-userz-user-token': await token({ exp: Math.floor(Date.now() / 1000) - 5 }) });
      expect(res.status).toBe(201);
    });
  });

  it('deletes blobs written for a report when its transaction fails', async () => {
    const failing: Db = {
      ...h.db,
      transaction: <T>(fn: (tx: Queryable) => Promise<T>) =>
        h.db.transaction(async (tx) => {
          await fn(tx);
          throw new Error('simulated commit failure');
        }),
    };
    const before = await countRows(h.db, 'reports');
    const files = listFiles(h.blobDir).length;
    await expect(
      acceptReport(
        { db: failing, blobs: h.blobs },
        {
          app: app.app,
          source: 'widget',
          content: { text: 'x' },
          replyTo: { kind: 'widget' },
          reporterKey: null,
          attachments: [{ name: 'a.png', contentType: 'image/png', data: Buffer.from('png') }],
          actor: 'test',
        },
      ),
    ).rejects.toThrow('simulated commit failure');
    expect(await countRows(h.db, 'reports')).toBe(before);
    expect(listFiles(h.blobDir).length).toBe(files);
  });
});

describe('intake rate limits and status', () => {
  let h: Harness;
  let app: CreatedApp;
  beforeAll(async () => {
    h = await openHarness({
      deps: {
        rateLimits: { perReporter: { name: 'intake:reporter', limit: 2, windowMs: 60_000 }, perApp: { name: 'intake:app', limit: 5, windowMs: 60_000 } },
      },
    });
    app = await createApp(h.db, h.vault, { orgId: h.orgId, name: 'Shop', origins: [ORIGIN], actor: 'test' });
  });
  afterAll(async () => h.close());

  const post = (reporterId: string) =>
    send(`${h.url}/api/v1/reports`, {
      headers: { 'content-type': 'application/json', 'x-userz-key': app.publicKey, origin: ORIGIN },
      body: JSON.stringify({ text: 'x', reporter: { id: reporterId } }),
    });

  it('answers 429 with Retry-After past the per-reporter limit, then past the per-App limit', async () => {
    expect((await post('r1')).status).toBe(201);
    expect((await post('r1')).status).toBe(201);
    const limited = await post('r1');
    expect(limited.status).toBe(429);
    expect(limited.json.error.code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect((await post('r2')).status).toBe(201);
    expect((await post('r2')).status).toBe(201);
    const appLimited = await post('r3');
    expect(appLimited.status).toBe(429);
    expect(await countRows(h.db, 'reports')).toBe(4);
  });

  it('serves a report’s status only with its status token, then the outcome once told', async () => {
    // The per-App bucket is spent by the test above, so store directly.
    const { acceptReport } = await import('../../src/intake/index.js');
    const { report, statusToken } = await acceptReport(h.deps, {
      app: app.app,
      source: 'widget',
      content: { text: 'x' },
      replyTo: { kind: 'widget' },
      reporterKey: null,
      actor: 'test',
    });
    const url = `${h.url}/api/v1/reports/${report.id}/status`;
    const wrong = await send(url, { method: 'GET', headers: { 'x-userz-status-token': 'rst_wrong' } });
    expect(wrong.status).toBe(404);
    const none = await send(url, { method: 'GET' });
    expect(none.status).toBe(404);
    const ok = await send(url, { method: 'GET', headers: { 'x-userz-status-token': statusToken, origin: ORIGIN } });
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ id: report.id, status: 'received', phase: 'received', outcome: null });
    expect(ok.headers['access-control-allow-origin']).toBe(ORIGIN);
    await h.routes.notifier.notifyReporter(report, { kind: 'pr_opened', url: 'https://github.com/acme/shop/pull/7' });
    const after = await send(url, { method: 'GET', headers: { 'x-userz-status-token': statusToken } });
    // No repository detail: the PR link stays out of the public status.
    expect(after.json).toEqual({ id: report.id, status: 'pr_opened', phase: 'fix_proposed', outcome: { kind: 'pr_opened' } });
  });
});
