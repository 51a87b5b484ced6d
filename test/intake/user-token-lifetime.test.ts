import { SignJWT } from 'jose';
import { createApp, type CreatedApp } from '../../src/intake/index.js';
import { countRows, openHarness, type Harness } from './harness.js';
import { send } from './http-client.js';

// Opening a database and server can be slow on a loaded shared machine; no test asserts time.
const SETUP_TIMEOUT_MS = 120_000;

const DAY = 24 * 3600;
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('private-mode user token lifetime', () => {
  let h: Harness;
  let app: CreatedApp;
  beforeAll(async () => {
    h = await openHarness();
    app = await createApp(h.db, h.vault, { orgId: h.orgId, name: 'Shop', origins: [], actor: 'test' });
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => h.close());

  let seq = 0;
  const token = (claims: { iat?: number; exp: number }) => {
    let jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(`user-${++seq}`).setAudience(app.app.id).setExpirationTime(claims.exp);
    if (claims.iat !== undefined) jwt = jwt.setIssuedAt(claims.iat);
    return jwt.sign(new TextEncoder().encode(app.signingSecret));
  };
  const report = async (claims: { iat?: number; exp: number }) =>
    send(`${h.url}/api/v1/reports`, {
      headers: { 'content-type': 'application/json', 'x-userz-key': app.publicKey, 'x-userz-user-token': await token(claims) },
      body: JSON.stringify({ text: 'from backend' }),
    });

  async function expectTooLong(claims: { iat?: number; exp: number }) {
    const before = await countRows(h.db, 'reports');
    const res = await report(claims);
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe('user_token_lifetime_too_long');
    expect(res.json.error.message).toContain('24 hours');
    expect(await countRows(h.db, 'reports')).toBe(before);
  }

  it('accepts exp − iat of exactly 24 h and a second less', async () => {
    const iat = nowSeconds();
    expect((await report({ iat, exp: iat + DAY })).status).toBe(201);
    expect((await report({ iat, exp: iat + DAY - 1 })).status).toBe(201);
  });

  it('refuses exp − iat one second over 24 h', async () => {
    const iat = nowSeconds();
    await expectTooLong({ iat, exp: iat + DAY + 1 });
  });

  it('refuses a long-lived token whose iat lies in the past even when little of it is left', async () => {
    const iat = nowSeconds() - 30 * DAY;
    await expectTooLong({ iat, exp: nowSeconds() + 600 });
  });

  it('refuses an iat dated in the future that would stretch the token beyond 24 h from now', async () => {
    const iat = nowSeconds() + 10 * DAY;
    await expectTooLong({ iat, exp: iat + 3600 });
  });

  it('without iat, accepts exp − now just under 24 h and refuses it just over', async () => {
    expect((await report({ exp: nowSeconds() + DAY - 60 })).status).toBe(201);
    await expectTooLong({ exp: nowSeconds() + DAY + 60 });
  });
});
