import type { IncomingMessage, ServerResponse } from 'node:http';
import { UserzError } from '../../errors.js';
import type { Router } from '../../http/index.js';
import { anyAuthUser, deleteUserSession, listUserSessions, type Db } from '../../store/index.js';
import type { ConsoleSession } from '../context.js';
import { time } from '../format.js';
import { href, html, type Html } from '../html.js';
import { layout, redirect, sendPage } from '../layout.js';
import { ORG_COOKIE, type ConsoleAuthService } from './console-auth.js';
import { addPage, field, hidden, notice, problem, readForm, safeNext } from './serve.js';

/**
 * The signed-out pages (sign-in, sign-up, check your email, verify, reset password) and the
 * account page (sessions, sign-out). Forms post here; these handlers call better-auth's
 * endpoints as the browser (auth.call) and pass its Set-Cookie through. Every signed-out
 * POST is rate-limited per client address and must come from the console's own origin.
 */
export interface AuthPagesDeps {
  db: Db;
  auth: ConsoleAuthService;
}

const NOTICES: Record<string, string> = {
  reset: 'Your password is changed. Sign in with the new one.',
  'signed-out': 'You are signed out.',
  verified: 'Your email is verified. Sign in to continue.',
};

export function registerAuthPages(router: Router, deps: AuthPagesDeps): void {
  const { auth, db } = deps;

  addPage(router, 'GET', '/sign-in', async (req, res, { url }) => {
    if (!(await anyAuthUser(db))) return redirect(res, '/sign-up');
    if (await auth.session(req)) return redirect(res, safeNext(url.searchParams.get('next')));
    sendSignIn(res, 200, { google: auth.googleEnabled, next: url.searchParams.get('next'), notice: NOTICES[url.searchParams.get('notice') ?? ''] });
  });

  addPage(router, 'POST', '/sign-in', async (req, res) => {
    await auth.limit(req, 'sign-in');
    auth.checkOrigin(req);
    const form = await readForm(req);
    const email = form.get('email')?.trim() ?? '';
    const next = safeNext(form.get('next'));
    const r = await auth.call(req, 'POST', '/sign-in/email', { email, password: form.get('password') ?? '', rememberMe: true });
    if (r.ok) return redirect(res, next, { 'set-cookie': r.headers.getSetCookie() });
    const code = await errorCode(r);
    if (code === 'EMAIL_NOT_VERIFIED') return sendCheckEmail(res, 403, { email, next, resent: true });
    sendSignIn(res, r.status === 429 ? 429 : 401, { google: auth.googleEnabled, next, email, error: 'That email and password do not match an account.' });
  });

  addPage(router, 'POST', '/sign-in/google', async (req, res) => {
    await auth.limit(req, 'sign-in');
    auth.checkOrigin(req);
    const form = await readForm(req);
    const next = safeNext(form.get('next'));
    const r = await auth.call(req, 'POST', '/sign-in/social', { provider: 'google', callbackURL: next, errorCallbackURL: '/sign-in?notice=google-failed' });
    const body = (await r.json().catch(() => ({}))) as { url?: string };
    if (!r.ok || !body.url) throw new UserzError('not_found', 'Google sign-in is not configured here');
    redirect(res, body.url, { 'set-cookie': r.headers.getSetCookie() });
  });

  addPage(router, 'GET', '/sign-up', async (req, res, { url }) => {
    if (await auth.session(req)) return redirect(res, '/');
    sendSignUp(res, 200, { google: auth.googleEnabled, next: url.searchParams.get('next'), first: !(await anyAuthUser(db)) });
  });

  addPage(router, 'POST', '/sign-up', async (req, res) => {
    await auth.limit(req, 'sign-up');
    auth.checkOrigin(req);
    const form = await readForm(req);
    const email = form.get('email')?.trim() ?? '';
    const name = form.get('name')?.trim() || email.split('@')[0] || 'user';
    const next = safeNext(form.get('next'));
    const r = await auth.call(req, 'POST', '/sign-up/email', { email, name, password: form.get('password') ?? '', callbackURL: verifyCallback(next) });
    if (r.ok) return sendCheckEmail(res, 200, { email, next });
    const message = await errorMessageOf(r);
    sendSignUp(res, r.status >= 500 ? 500 : 400, { google: auth.googleEnabled, next, email, name, error: message, first: !(await anyAuthUser(db)) });
  });

  addPage(router, 'POST', '/verify/resend', async (req, res) => {
    await auth.limit(req, 'verify-resend');
    auth.checkOrigin(req);
    const form = await readForm(req);
    const email = form.get('email')?.trim() ?? '';
    const next = safeNext(form.get('next'));
    await auth.call(req, 'POST', '/send-verification-email', { email, callbackURL: verifyCallback(next) });
    sendCheckEmail(res, 200, { email, next, resent: true });
  });

  // The verification link lands here after better-auth checked it (and signed the user in).
  addPage(router, 'GET', '/verify', async (req, res, { url }) => {
    const next = safeNext(url.searchParams.get('next'));
    if (url.searchParams.get('error')) {
      return sendPage(
        res,
        400,
        layout({
          title: 'This link did not work',
          body: html`<div class="auth">
            ${problem('The verification link is invalid or has expired.')}
            <p>Sign in with your email and password: we send a fresh link to an address that is not verified yet.</p>
            <p><a href="${href('/sign-in', { next: next === '/' ? undefined : next })}">Sign in</a></p>
          </div>`,
        }),
      );
    }
    const session = await auth.session(req);
    sendPage(
      res,
      200,
      layout({
        title: 'Email verified',
        session,
        body: html`<div class="auth">
          ${notice('Your email address is verified.')}
          <p><a href="${session ? next : href('/sign-in', { next: next === '/' ? undefined : next, notice: 'verified' })}">Continue to the console</a></p>
        </div>`,
      }),
    );
  });

  addPage(router, 'GET', '/reset-password', async (_req, res, { url }) => {
    const token = url.searchParams.get('token');
    if (url.searchParams.get('error')) return sendResetRequest(res, 400, { error: 'That reset link is invalid or has expired: ask for a new one.' });
    if (token) return sendResetSet(res, 200, { token });
    sendResetRequest(res, 200, {});
  });

  addPage(router, 'POST', '/reset-password/request', async (req, res) => {
    await auth.limit(req, 'reset');
    auth.checkOrigin(req);
    const form = await readForm(req);
    const email = form.get('email')?.trim() ?? '';
    await auth.call(req, 'POST', '/request-password-reset', { email, redirectTo: '/reset-password' });
    // The same answer whether or not the address has an account.
    sendResetRequest(res, 200, { notice: 'If that address has an account, a reset link is on its way. It works for one hour.' });
  });

  addPage(router, 'POST', '/reset-password', async (req, res) => {
    await auth.limit(req, 'reset');
    auth.checkOrigin(req);
    const form = await readForm(req);
    const token = form.get('token') ?? '';
    const r = await auth.call(req, 'POST', '/reset-password', { token, newPassword: form.get('password') ?? '' });
    if (r.ok) return redirect(res, '/sign-in?notice=reset');
    sendResetSet(res, 400, { token, error: await errorMessageOf(r) });
  });

  addPage(router, 'GET', '/account', async (req, res, { url }) => {
    const session = await auth.session(req);
    if (!session) return redirect(res, href('/sign-in', { next: '/account' }));
    const sessions = await listUserSessions(db, session.user.id);
    sendPage(res, 200, accountPage(session, sessions, url.searchParams.get('notice')));
  });

  addPage(router, 'POST', '/account/sessions/:id/revoke', async (req, res, { params }) => {
    const session = await signedInForm(req, res, auth);
    if (!session) return;
    if (params.id === session.sessionId) throw new UserzError('not_found', 'Use Sign out to end this session');
    if (!(await deleteUserSession(db, session.user.id, params.id!))) throw new UserzError('not_found', 'No such session of yours');
    redirect(res, '/account?notice=revoked');
  });

  addPage(router, 'POST', '/account/sessions/revoke-others', async (req, res) => {
    if (!(await signedInForm(req, res, auth))) return;
    const r = await auth.call(req, 'POST', '/revoke-other-sessions', {});
    if (!r.ok) throw new UserzError('not_signed_in', 'Sign in again to do that');
    redirect(res, '/account?notice=revoked-others');
  });

  addPage(router, 'POST', '/account/sign-out-everywhere', async (req, res) => {
    if (!(await signedInForm(req, res, auth))) return;
    await auth.call(req, 'POST', '/revoke-sessions', {});
    const r = await auth.call(req, 'POST', '/sign-out', {});
    redirect(res, '/sign-in?notice=signed-out', { 'set-cookie': [...r.headers.getSetCookie(), ...clearSessionCookies(auth)] });
  });

  addPage(router, 'POST', '/account/org', async (req, res) => {
    const session = await auth.session(req);
    if (!session) return redirect(res, '/sign-in');
    const form = await readForm(req);
    auth.checkCsrf(req, session, form.get('_csrf') ?? undefined);
    const orgId = form.get('orgId') ?? '';
    if (!session.memberships.some((m) => m.orgId === orgId)) throw new UserzError('not_found', 'You are not a member of that org');
    redirect(res, '/', { 'set-cookie': orgCookie(auth, orgId) });
  });

  addPage(router, 'POST', '/sign-out', async (req, res) => {
    const session = await auth.session(req);
    if (!session) {
      await readForm(req);
      return redirect(res, '/sign-in');
    }
    const form = await readForm(req);
    auth.checkCsrf(req, session, form.get('_csrf') ?? undefined);
    const r = await auth.call(req, 'POST', '/sign-out', {});
    redirect(res, '/sign-in?notice=signed-out', { 'set-cookie': [...r.headers.getSetCookie(), ...clearSessionCookies(auth)] });
  });
}

/** The signed-in user of a POST whose CSRF token checks out; otherwise answered (sign-in) and null. */
async function signedInForm(req: IncomingMessage, res: ServerResponse, auth: ConsoleAuthService): Promise<ConsoleSession | null> {
  const session = await auth.session(req);
  const form = await readForm(req);
  if (!session) {
    redirect(res, '/sign-in');
    return null;
  }
  auth.checkCsrf(req, session, form.get('_csrf') ?? undefined);
  return session;
}

export function orgCookie(auth: ConsoleAuthService, orgId: string): string {
  return `${ORG_COOKIE}=${encodeURIComponent(orgId)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${365 * 24 * 3600}${auth.secureCookies ? '; Secure' : ''}`;
}

function clearSessionCookies(auth: ConsoleAuthService): string[] {
  const prefix = auth.secureCookies ? '__Secure-userz' : 'userz';
  return ['session_token', 'session_data'].map((n) => `${prefix}.${n}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${auth.secureCookies ? '; Secure' : ''}`);
}

const verifyCallback = (next: string) => (next === '/' ? '/verify' : href('/verify', { next }));

async function errorCode(r: Response): Promise<string | undefined> {
  const body = (await r
    .clone()
    .json()
    .catch(() => ({}))) as { code?: string };
  return body.code;
}

async function errorMessageOf(r: Response): Promise<string> {
  const body = (await r.json().catch(() => ({}))) as { message?: string };
  return typeof body.message === 'string' && body.message.length < 300 ? body.message : 'That did not work. Check the fields and try again.';
}

const nextField = (next: string | null | undefined) => (next && safeNext(next) !== '/' ? hidden('next', safeNext(next)) : '');

function sendSignIn(res: ServerResponse, status: number, v: { next?: string | null; email?: string; error?: string; notice?: string; google: boolean }): void {
  const next = v.next && safeNext(v.next) !== '/' ? safeNext(v.next) : undefined;
  sendPage(
    res,
    status,
    layout({
      title: 'Sign in',
      body: html`<div class="auth">
        ${notice(v.notice)} ${problem(v.error)}
        <form method="post" action="/sign-in">
          ${nextField(next)} ${field('Email', 'email', 'email', html`autocomplete="username" required value="${v.email ?? ''}"`)}
          ${field('Password', 'password', 'password', html`autocomplete="current-password" required`)}
          <p><button type="submit" class="primary">Sign in</button></p>
        </form>
        ${
          v.google
            ? html`<form method="post" action="/sign-in/google">
                ${nextField(next)}
                <p><button type="submit">Sign in with Google</button></p>
              </form>`
            : ''
        }
        <p><a href="/reset-password">Forgot your password?</a> · <a href="${href('/sign-up', { next })}">Create an account</a></p>
      </div>`,
    }),
  );
}

function sendSignUp(
  res: ServerResponse,
  status: number,
  v: { next?: string | null; email?: string; name?: string; error?: string; first?: boolean; google: boolean },
): void {
  const next = v.next && safeNext(v.next) !== '/' ? safeNext(v.next) : undefined;
  sendPage(
    res,
    status,
    layout({
      title: 'Create your account',
      body: html`<div class="auth">
        ${v.first ? notice('Welcome to Userz. Create the first account: once its email is verified it owns the first organization.') : ''} ${problem(v.error)}
        <form method="post" action="/sign-up">
          ${nextField(next)} ${field('Name', 'name', 'text', html`autocomplete="name" value="${v.name ?? ''}"`)}
          ${field('Email', 'email', 'email', html`autocomplete="email" required value="${v.email ?? ''}"`)}
          ${field('Password (at least 10 characters)', 'password', 'password', html`autocomplete="new-password" minlength="10" required`)}
          <p><button type="submit" class="primary">Create account</button></p>
        </form>
        ${
          v.google
            ? html`<form method="post" action="/sign-in/google">
                ${nextField(next)}
                <p><button type="submit">Sign up with Google</button></p>
              </form>`
            : ''
        }
        <p>Already have an account? <a href="${href('/sign-in', { next })}">Sign in</a></p>
      </div>`,
    }),
  );
}

function sendCheckEmail(res: ServerResponse, status: number, v: { email: string; next?: string; resent?: boolean }): void {
  sendPage(
    res,
    status,
    layout({
      title: 'Check your email',
      body: html`<div class="auth">
        ${notice(v.resent ? 'We sent a new verification link.' : 'We sent you a verification link.')}
        <p>
          Open the link in the message sent to <strong>${v.email}</strong> to finish. Without a mail server configured, the message is in the
          <code>outbox</code> folder of the data directory and its link is in the server log.
        </p>
        <form method="post" action="/verify/resend">
          ${hidden('email', v.email)} ${nextField(v.next)}
          <p><button type="submit">Send the link again</button></p>
        </form>
        <p><a href="/sign-in">Back to sign-in</a></p>
      </div>`,
    }),
  );
}

function sendResetRequest(res: ServerResponse, status: number, v: { notice?: string; error?: string }): void {
  sendPage(
    res,
    status,
    layout({
      title: 'Reset your password',
      body: html`<div class="auth">
        ${notice(v.notice)} ${problem(v.error)}
        <form method="post" action="/reset-password/request">
          ${field('Email', 'email', 'email', html`autocomplete="email" required`)}
          <p><button type="submit" class="primary">Send a reset link</button></p>
        </form>
        <p><a href="/sign-in">Back to sign-in</a></p>
      </div>`,
    }),
  );
}

function sendResetSet(res: ServerResponse, status: number, v: { token: string; error?: string }): void {
  sendPage(
    res,
    status,
    layout({
      title: 'Choose a new password',
      body: html`<div class="auth">
        ${problem(v.error)}
        <form method="post" action="/reset-password">
          ${hidden('token', v.token)}
          ${field('New password (at least 10 characters)', 'password', 'password', html`autocomplete="new-password" minlength="10" required`)}
          <p><button type="submit" class="primary">Set password</button></p>
        </form>
      </div>`,
    }),
  );
}

const ACCOUNT_NOTICES: Record<string, string> = {
  revoked: 'That session is signed out.',
  'revoked-others': 'Every other session is signed out.',
};

/** A readable device from a User-Agent: browser and system, or the raw text shortened. */
export function describeDevice(ua: string | null): string {
  if (!ua) return 'Unknown device';
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : null;
  const os = /Windows/.test(ua)
    ? 'Windows'
    : /Mac OS X/.test(ua)
      ? 'macOS'
      : /Android/.test(ua)
        ? 'Android'
        : /iPhone|iPad/.test(ua)
          ? 'iOS'
          : /Linux/.test(ua)
            ? 'Linux'
            : null;
  return browser || os ? [browser, os].filter(Boolean).join(' on ') : ua.slice(0, 60);
}

function accountPage(session: ConsoleSession, sessions: Awaited<ReturnType<typeof listUserSessions>>, noticeKey: string | null): Html {
  const others = sessions.filter((s) => s.id !== session.sessionId);
  return layout({
    title: 'Your account',
    session,
    body: html`${notice(ACCOUNT_NOTICES[noticeKey ?? ''])}
      <dl class="facts">
        <dt>Name</dt>
        <dd>${session.user.name}</dd>
        <dt>Email</dt>
        <dd>${session.user.email}</dd>
      </dl>
      ${
        session.memberships.length > 0
          ? html`<h2>Organizations</h2>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Organization</th>
                    <th scope="col">Role</th>
                    <th scope="col"><span class="muted">Switch</span></th>
                  </tr>
                </thead>
                <tbody>
                  ${session.memberships.map(
                    (m) =>
                      html`<tr>
                        <td>${m.orgName}</td>
                        <td>${m.role}</td>
                        <td>
                          ${
                            session.principal?.orgId === m.orgId
                              ? html`<span class="muted">Current</span>`
                              : html`<form method="post" action="/account/org" class="inline">
                                  ${hidden('_csrf', session.csrfToken)} ${hidden('orgId', m.orgId)}
                                  <button type="submit" class="link">Switch to ${m.orgName}</button>
                                </form>`
                          }
                        </td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
          : html`<p>You are not a member of any organization yet.</p>`
      }
      <h2>Sessions</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Device</th>
            <th scope="col">IP address</th>
            <th scope="col">Last seen</th>
            <th scope="col">Signed in</th>
            <th scope="col"><span class="muted">Action</span></th>
          </tr>
        </thead>
        <tbody>
          ${sessions.map(
            (s) =>
              html`<tr>
                <td>${describeDevice(s.userAgent)}</td>
                <td class="mono">${s.ipAddress ?? 'unknown'}</td>
                <td>${time(s.updatedAt)}</td>
                <td>${time(s.createdAt)}</td>
                <td>
                  ${
                    s.id === session.sessionId
                      ? html`<strong>This session</strong>`
                      : html`<form method="post" action="${`/account/sessions/${encodeURIComponent(s.id)}/revoke`}" class="inline">
                          ${hidden('_csrf', session.csrfToken)}
                          <button type="submit" class="danger">Sign out this session</button>
                        </form>`
                  }
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
      ${
        others.length > 0
          ? html`<form method="post" action="/account/sessions/revoke-others">
              ${hidden('_csrf', session.csrfToken)}
              <p><button type="submit">Sign out every other session</button></p>
            </form>`
          : ''
      }
      <form method="post" action="/account/sign-out-everywhere">
        ${hidden('_csrf', session.csrfToken)}
        <p><button type="submit" class="danger">Sign out everywhere</button></p>
      </form>`,
  });
}
