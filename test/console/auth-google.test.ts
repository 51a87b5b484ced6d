import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import nock from 'nock';
import { listMemberships } from '../../src/store/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestOrg } from '../helpers/db.js';
import { postForm, sessionCookieOf } from '../helpers/console-session.js';

// "Sign in with Google": the authorization redirect, Google's token endpoint (nock'd) handing
// back a real RS256-signed ID token, checked against Google's JWKS (nock'd) before any user
// or session exists.
const CLIENT_ID = 'userz-test.apps.googleusercontent.com';

describe('Google OAuth sign-in', () => {
  let app: TestApp;
  let googleKey: CryptoKey;
  let jwks: { keys: object[] };

  beforeAll(async () => {
    app = await startTestApp({ db: 'pglite', env: { GOOGLE_CLIENT_ID: CLIENT_ID, GOOGLE_CLIENT_SECRET: 'google-test-secret' } });
    const pair = await generateKeyPair('RS256');
    googleKey = pair.privateKey;
    jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'google-key-1', alg: 'RS256', use: 'sig' }] };
  });
  afterAll(async () => {
    nock.cleanAll();
    await app.close();
  });
  afterEach(() => {
    expect(nock.pendingMocks()).toEqual([]);
  });

  const idToken = (key: CryptoKey, claims: Record<string, unknown>) =>
    new SignJWT({ email_verified: true, ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'google-key-1', typ: 'JWT' })
      .setIssuer('https://accounts.google.com')
      .setAudience(CLIENT_ID)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(key);

  /** Starts at our sign-in form, follows Google's consent (simulated) back to the callback. */
  async function googleRoundTrip(token: string): Promise<Response> {
    const start = await postForm(app, '/sign-in/google', {});
    expect(start.status).toBe(303);
    const authorize = new URL(start.headers.get('location')!);
    expect(authorize.origin + authorize.pathname).toBe('https://accounts.google.com/o/oauth2/v2/auth');
    expect(authorize.searchParams.get('client_id')).toBe(CLIENT_ID);
    expect(authorize.searchParams.get('scope')).toContain('openid');
    const state = authorize.searchParams.get('state')!;
    const redirectUri = authorize.searchParams.get('redirect_uri')!;
    expect(redirectUri).toBe(`${app.deps.config.publicUrl}/api/auth/callback/google`);
    const cookies = start.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');

    nock('https://oauth2.googleapis.com')
      .post('/token', (body: Record<string, string>) => body.code === 'consent-code' && body.client_id === CLIENT_ID && !!body.code_verifier)
      .reply(200, { access_token: 'ya29.test', id_token: token, token_type: 'Bearer', expires_in: 3600, scope: 'openid email profile' });
    nock('https://www.googleapis.com').get('/oauth2/v3/certs').reply(200, jwks);

    return fetch(`${app.url}/api/auth/callback/google?${new URLSearchParams({ state, code: 'consent-code' })}`, {
      headers: { cookie: cookies },
      redirect: 'manual',
    });
  }

  it('refuses an ID token not signed by Google’s key: no user, no session', async () => {
    const forger = await generateKeyPair('RS256');
    const r = await googleRoundTrip(await idToken(forger.privateKey, { sub: '999', email: 'mallory@example.test', name: 'Mallory' }));
    expect(r.status).toBe(302);
    expect(sessionCookieOf(r)).toBeUndefined();
    expect(await app.deps.store.db.query('SELECT id FROM auth_users WHERE email = $1', ['mallory@example.test'])).toEqual([]);
  });

  it('signs in with a valid ID token: a verified user, a session, and (first user, embedded db) owner of the first org', async () => {
    const orgId = await createTestOrg(app.deps.store.db, app.deps.vault);
    const r = await googleRoundTrip(await idToken(googleKey, { sub: '1234567890', email: 'grace@example.test', name: 'Grace Hopper' }));
    expect(r.status).toBe(302);
    const cookie = sessionCookieOf(r)!;
    expect(cookie).toBeDefined();
    const account = await fetch(`${app.url}/account`, { headers: { cookie }, redirect: 'manual' });
    expect(account.status).toBe(200);
    expect(await account.text()).toContain('grace@example.test');
    const [user] = await app.deps.store.db.query<{ id: string; email_verified: boolean }>('SELECT id, email_verified FROM auth_users WHERE email = $1', [
      'grace@example.test',
    ]);
    expect(user!.email_verified).toBe(true);
    expect(await listMemberships(app.deps.store.db, user!.id)).toEqual([{ orgId, orgName: 'acme', role: 'owner' }]);
  });

  it('does not link an unverified Google address to an existing account', async () => {
    const [owner] = await app.deps.store.db.query<{ id: string }>('SELECT id FROM auth_users WHERE email = $1', ['grace@example.test']);
    const r = await googleRoundTrip(await idToken(googleKey, { sub: '555', email: 'grace@example.test', name: 'Not Grace', email_verified: false }));
    expect(sessionCookieOf(r)).toBeUndefined();
    expect(await app.deps.store.db.query('SELECT provider_id FROM auth_accounts WHERE user_id = $1 ORDER BY provider_id', [owner!.id])).toEqual([
      { provider_id: 'google' },
    ]);
    expect(await app.deps.store.db.query(`SELECT 1 FROM auth_accounts WHERE account_id = '555'`)).toEqual([]);
  });
});
