import { startTestApp, type TestApp } from '../helpers/app.js';
import { DB_KINDS } from '../helpers/db.js';
import { startSmtp, type Smtp } from '../helpers/smtp.js';
import { consoleOrigin, csrfTokenOf, postForm, sessionCookieOf, signedInMember, TEST_PASSWORD } from '../helpers/console-session.js';

// Console sign-in and sessions (issue 13), on both databases, with mail through a real SMTP server in-process.

const rowsOf = (app: TestApp, userId: string) =>
  app.deps.store.db.query<{ id: string; expires_at: Date; updated_at: Date }>(
    'SELECT id, expires_at, updated_at FROM auth_sessions WHERE user_id = $1 ORDER BY created_at',
    [userId],
  );

const get = (app: TestApp, path: string, cookie?: string) => fetch(`${app.url}${path}`, { headers: cookie ? { cookie } : {}, redirect: 'manual' });

describe.each(DB_KINDS)('console sign-in on %s', (kind) => {
  let app: TestApp;
  let smtp: Smtp;

  beforeAll(async () => {
    smtp = await startSmtp();
    app = await startTestApp({ db: kind, env: { USERZ_SMTP_URL: smtp.url, USERZ_MAIL_FROM: 'Userz <console@example.test>' } });
  });
  afterAll(async () => {
    await app.close();
    await smtp.close();
  });

  it('sends the first visitor from /sign-in to /sign-up, and serves sign-up with labelled inputs', async () => {
    const r = await get(app, '/sign-in');
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/sign-up');
    const page = await (await get(app, '/sign-up')).text();
    for (const name of ['name', 'email', 'password']) expect(page).toContain(`<label for="f-${name}">`);
  });

  it('signs up, receives the verification mail over SMTP, verifies by its link, then signs in with the password', async () => {
    const email = `ada-${kind}@example.test`;
    const member = await signedInMember(app, { email, readLink: (e) => smtp.link(e, 'verify-email') });
    const mail = smtp.messages.find((m) => m.includes(`To: ${email}`))!;
    expect(mail).toMatch(/^Subject: Verify your email for Userz/m);
    expect(mail).toMatch(/^From: Userz <console@example.test>/m);
    // The link signed the user in: the cookie opens the account page.
    expect((await get(app, '/account', member.cookie)).status).toBe(200);
    // SMTP is configured: the link never reaches the log.
    expect(app.logText()).not.toContain('verify-email?token');

    const signIn = await postForm(app, '/sign-in', { email, password: TEST_PASSWORD });
    expect(signIn.status).toBe(303);
    const cookie = sessionCookieOf(signIn)!;
    expect(cookie).toBeDefined();
    const account = await get(app, '/account', cookie);
    expect(account.status).toBe(200);
    expect(await account.text()).toContain(email);

    const wrong = await postForm(app, '/sign-in', { email, password: 'not the password' });
    expect(wrong.status).toBe(401);
    expect(sessionCookieOf(wrong)).toBeUndefined();
  });

  it('gives an unverified user no session: sign-in answers "check your email" and re-sends the link', async () => {
    const email = `unverified-${kind}@example.test`;
    const up = await postForm(app, '/sign-up', { name: 'U', email, password: TEST_PASSWORD });
    expect(up.status).toBe(200);
    expect(sessionCookieOf(up)).toBeUndefined();
    await smtp.link(email, 'verify-email');
    const before = smtp.messages.length;
    const r = await postForm(app, '/sign-in', { email, password: TEST_PASSWORD });
    expect(r.status).toBe(403);
    expect(await r.text()).toContain('Check your email');
    expect(sessionCookieOf(r)).toBeUndefined();
    // Through better-auth's own endpoint too.
    const api = await fetch(`${app.url}/api/auth/sign-in/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: consoleOrigin(app) },
      body: JSON.stringify({ email, password: TEST_PASSWORD }),
    });
    expect(api.status).toBe(403);
    expect(sessionCookieOf(api)).toBeUndefined();
    await smtp.link(email, 'verify-email');
    expect(smtp.messages.length).toBeGreaterThan(before);
  });

  it('sets the session cookie HttpOnly, SameSite=Lax, for 30 days, without Secure on an http public URL', async () => {
    const r = await postForm(app, '/sign-in', { email: `ada-${kind}@example.test`, password: TEST_PASSWORD });
    const set = r.headers.getSetCookie().find((c) => c.startsWith('userz.session_token='))!;
    expect(set).toMatch(/;\s*HttpOnly/i);
    expect(set).toMatch(/;\s*SameSite=Lax/i);
    expect(set).toMatch(/;\s*Max-Age=2592000/);
    expect(set).not.toMatch(/;\s*Secure/i);
  });

  it('refreshes a session at most once per 24 h of activity, and re-issues the cookie when it does', async () => {
    const m = await signedInMember(app, { readLink: (e) => smtp.link(e, 'verify-email') });
    const [s0] = await rowsOf(app, m.userId);
    // 23 h old: not due yet.
    await app.deps.store.db.query(
      `UPDATE auth_sessions SET expires_at = expires_at - interval '23 hours', updated_at = updated_at - interval '23 hours' WHERE id = $1`,
      [s0!.id],
    );
    const [s1] = await rowsOf(app, m.userId);
    const notDue = await get(app, '/account', m.cookie);
    expect(notDue.status).toBe(200);
    expect(sessionCookieOf(notDue)).toBeUndefined();
    expect((await rowsOf(app, m.userId))[0]!.expires_at.getTime()).toBe(s1!.expires_at.getTime());

    // 25 h old: the next request pushes expiry out to 30 days from now and sends a fresh cookie.
    await app.deps.store.db.query(
      `UPDATE auth_sessions SET expires_at = expires_at - interval '2 hours', updated_at = updated_at - interval '2 hours' WHERE id = $1`,
      [s0!.id],
    );
    const due = await get(app, '/account', m.cookie);
    expect(due.status).toBe(200);
    const refreshed = due.headers.getSetCookie().find((c) => c.startsWith('userz.session_token='));
    expect(refreshed).toMatch(/Max-Age=2592000/);
    const [s2] = await rowsOf(app, m.userId);
    expect(s2!.expires_at.getTime()).toBeGreaterThan(Date.now() + 29.9 * 24 * 3600_000);

    // Right after: no second refresh.
    const again = await get(app, '/account', m.cookie);
    expect(sessionCookieOf(again)).toBeUndefined();
    expect((await rowsOf(app, m.userId))[0]!.expires_at.getTime()).toBe(s2!.expires_at.getTime());
  });

  it('signs out server-side: the old cookie stops working and the session row is gone', async () => {
    const m = await signedInMember(app, { readLink: (e) => smtp.link(e, 'verify-email') });
    expect(await rowsOf(app, m.userId)).toHaveLength(1);
    const out = await postForm(app, '/sign-out', { _csrf: m.csrfToken }, { cookie: m.cookie });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/sign-in?notice=signed-out');
    expect(await rowsOf(app, m.userId)).toHaveLength(0);
    const after = await get(app, '/account', m.cookie);
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toBe('/sign-in?next=%2Faccount');
  });

  it('lists a user’s sessions and revokes another one; another user’s session id is 404 and stays', async () => {
    const a = await signedInMember(app, { readLink: (e) => smtp.link(e, 'verify-email') });
    const second = sessionCookieOf(
      await postForm(
        app,
        '/sign-in',
        { email: a.email, password: TEST_PASSWORD },
        { headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0' } },
      ),
    )!;
    const other = await signedInMember(app, { readLink: (e) => smtp.link(e, 'verify-email') });
    const [first, secondRow] = await rowsOf(app, a.userId);
    const [otherRow] = await rowsOf(app, other.userId);

    const page = await (await get(app, '/account', a.cookie)).text();
    expect(page).toContain('Firefox on Linux');
    expect(page).toContain('127.0.0.1');
    expect(page).toContain(`/account/sessions/${secondRow!.id}/revoke`);

    const foreign = await postForm(app, `/account/sessions/${otherRow!.id}/revoke`, { _csrf: a.csrfToken }, { cookie: a.cookie });
    expect(foreign.status).toBe(404);
    expect((await get(app, '/account', other.cookie)).status).toBe(200);

    const revoke = await postForm(app, `/account/sessions/${secondRow!.id}/revoke`, { _csrf: a.csrfToken }, { cookie: a.cookie });
    expect(revoke.status).toBe(303);
    expect((await get(app, '/account', second)).status).toBe(303);
    expect((await get(app, '/account', a.cookie)).status).toBe(200);
    expect((await rowsOf(app, a.userId)).map((r) => r.id)).toEqual([first!.id]);
  });

  it('signs out everywhere: every session of the user ends', async () => {
    const a = await signedInMember(app, { readLink: (e) => smtp.link(e, 'verify-email') });
    const second = sessionCookieOf(await postForm(app, '/sign-in', { email: a.email, password: TEST_PASSWORD }))!;
    const r = await postForm(app, '/account/sign-out-everywhere', { _csrf: a.csrfToken }, { cookie: a.cookie });
    expect(r.status).toBe(303);
    expect(await rowsOf(app, a.userId)).toHaveLength(0);
    expect((await get(app, '/account', second)).status).toBe(303);
  });

  it('resets a password through the mailed link; the old password and old sessions stop working', async () => {
    const a = await signedInMember(app, { readLink: (e) => smtp.link(e, 'verify-email') });
    const ask = await postForm(app, '/reset-password/request', { email: a.email });
    expect(ask.status).toBe(200);
    const link = new URL(await smtp.link(a.email, 'reset-password'));
    const landing = await fetch(`${app.url}${link.pathname}${link.search}`, { redirect: 'manual' });
    expect(landing.status).toBe(302);
    const token = new URL(landing.headers.get('location')!, app.url).searchParams.get('token')!;
    expect(token).toBeTruthy();
    const set = await postForm(app, '/reset-password', { token, password: 'a brand new passphrase' });
    expect(set.status).toBe(303);
    expect((await postForm(app, '/sign-in', { email: a.email, password: TEST_PASSWORD })).status).toBe(401);
    expect((await postForm(app, '/sign-in', { email: a.email, password: 'a brand new passphrase' })).status).toBe(303);
    expect((await get(app, '/account', a.cookie)).status).toBe(303);
  });

  it('refuses a cross-site form post (foreign Origin, or no Origin/Referer) with 403 csrf_failed, and a wrong token', async () => {
    const a = await signedInMember(app, { readLink: (e) => smtp.link(e, 'verify-email') });
    for (const origin of ['https://evil.example', null]) {
      const r = await postForm(app, '/sign-out', { _csrf: a.csrfToken }, { cookie: a.cookie, origin });
      expect(r.status).toBe(403);
      expect(await r.text()).toContain('data-code="csrf_failed"');
    }
    const badToken = await postForm(app, '/sign-out', { _csrf: `${a.csrfToken.slice(0, -2)}xx` }, { cookie: a.cookie });
    expect(badToken.status).toBe(403);
    const signIn = await postForm(app, '/sign-in', { email: a.email, password: TEST_PASSWORD }, { origin: 'https://evil.example' });
    expect(signIn.status).toBe(403);
    expect(sessionCookieOf(signIn)).toBeUndefined();
    // Nothing changed: still signed in.
    expect((await get(app, '/account', a.cookie)).status).toBe(200);
    expect(await csrfTokenOf(app, a.cookie)).toBe(a.csrfToken);
  });
});

describe('console sign-in under an https public URL', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ db: 'pglite', env: { USERZ_PUBLIC_URL: 'https://console.example.test' } });
  });
  afterAll(async () => app.close());

  it('marks the session cookie Secure (with the __Secure- prefix), HttpOnly, SameSite=Lax, 30 days', async () => {
    const m = await signedInMember(app, {});
    const r = await postForm(app, '/sign-in', { email: m.email, password: TEST_PASSWORD });
    expect(r.status).toBe(303);
    const set = r.headers.getSetCookie().find((c) => c.startsWith('__Secure-userz.session_token='))!;
    expect(set).toMatch(/;\s*Secure/i);
    expect(set).toMatch(/;\s*HttpOnly/i);
    expect(set).toMatch(/;\s*SameSite=Lax/i);
    expect(set).toMatch(/;\s*Max-Age=2592000/);
  });

  it('writes the verification mail to the outbox and logs its link when no SMTP server is configured', async () => {
    await signedInMember(app, { email: 'outbox@example.test' });
    expect(app.logText()).toMatch(/Mail written to the outbox[^\n]*|"link":"https:\/\/console\.example\.test\/api\/auth\/verify-email\?token=/);
    expect(app.logText()).toContain('https://console.example.test/api/auth/verify-email?token=');
  });
});
