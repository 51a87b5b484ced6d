import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, watch } from 'node:fs';
import { join } from 'node:path';
import { addMember } from '../../src/store/index.js';
import type { Role } from '../../src/tenant/index.js';
import type { TestApp } from './app.js';

/**
 * A signed-in console member, the real way: sign-up through HTTP, the verification link
 * read from the mail (the outbox of the embedded default, or the SMTP server a test runs
 * and passes as `readLink`), the link opened (which signs in), the membership added.
 * Returns the session cookie (`name=value`), the CSRF token every form posts as `_csrf`,
 * and the user id.
 */
export interface SignedInMember {
  cookie: string;
  csrfToken: string;
  userId: string;
  email: string;
}

export const TEST_PASSWORD = 'correct horse battery staple';

export async function signedInMember(
  app: TestApp,
  opts: { orgId?: string; role?: Role; email?: string; name?: string; readLink?: (email: string) => Promise<string> },
): Promise<SignedInMember> {
  const email = opts.email ?? `user-${randomBytes(5).toString('hex')}@example.test`;
  const r = await postForm(app, '/sign-up', { name: opts.name ?? email.split('@')[0]!, email, password: TEST_PASSWORD });
  if (r.status !== 200) throw new Error(`sign-up answered ${r.status}: ${(await r.text()).slice(0, 300)}`);
  await r.arrayBuffer();
  // Keep the per-address sign-up limit for the tests that test it: a helper's sign-ups do not count.
  await clearAuthLimits(app);
  const link = await (opts.readLink ?? ((e) => outboxLink(app, e, 'verify-email')))(email);
  const cookie = await openVerificationLink(app, link);
  const [user] = await app.deps.store.db.query<{ id: string }>('SELECT id FROM auth_users WHERE email = $1', [email.toLowerCase()]);
  if (!user) throw new Error(`no user ${email} after sign-up`);
  // On the embedded database the first user to verify becomes an owner (console/auth): a helper's user has exactly the membership asked for.
  await app.deps.store.db.query('DELETE FROM org_members WHERE user_id = $1', [user.id]);
  if (opts.orgId) await addMember(app.deps.store.db, { orgId: opts.orgId, userId: user.id, role: opts.role ?? 'member', actor: 'test' });
  return { cookie, csrfToken: await csrfTokenOf(app, cookie), userId: user.id, email };
}

/** The app's public origin: what a browser on the console sends as Origin. */
export function consoleOrigin(app: TestApp): string {
  return new URL(app.deps.config.publicUrl).origin;
}

/** POSTs an urlencoded form as the console's own page would (Origin set), without following redirects. */
export async function postForm(
  app: TestApp,
  path: string,
  form: Record<string, string>,
  opts: { cookie?: string; origin?: string | null; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', ...opts.headers };
  if (opts.origin !== null) headers.origin = opts.origin ?? consoleOrigin(app);
  if (opts.cookie) headers.cookie = opts.cookie;
  return fetch(`${app.url}${path}`, { method: 'POST', headers, body: new URLSearchParams(form).toString(), redirect: 'manual' });
}

/** Opens a mailed link (its host is the public URL; the request goes to the test server) and returns the session cookie it set. */
export async function openVerificationLink(app: TestApp, link: string): Promise<string> {
  const u = new URL(link);
  const r = await fetch(`${app.url}${u.pathname}${u.search}`, { redirect: 'manual' });
  await r.arrayBuffer();
  const cookie = sessionCookieOf(r);
  if (!cookie) throw new Error(`the verification link answered ${r.status} without a session cookie`);
  return cookie;
}

/** `name=value` of the session cookie a response set, if any. */
export function sessionCookieOf(r: Response): string | undefined {
  const set = r.headers.getSetCookie().find((c) => /^(__Secure-)?userz\.session_token=[^;]+/.test(c));
  return set?.split(';')[0];
}

export async function csrfTokenOf(app: TestApp, cookie: string): Promise<string> {
  const page = await (await fetch(`${app.url}/account`, { headers: { cookie }, redirect: 'manual' })).text();
  const m = /name="_csrf" value="([^"]+)"/.exec(page);
  if (!m) throw new Error('no CSRF token on /account (not signed in?)');
  return m[1]!;
}

/**
 * The link of the newest outbox message to this address whose link contains `kind`
 * (`verify-email`, `reset-password`, `invites/`). Waits for the file with fs.watch: a mail
 * may be written just after the answer that caused it.
 */
export async function outboxLink(app: TestApp, email: string, kind: string): Promise<string> {
  const dir = join(app.deps.config.dataDir, 'outbox');
  const find = (): string | undefined => {
    if (!existsSync(dir)) return undefined;
    for (const f of readdirSync(dir).sort().reverse()) {
      const text = readFileSync(join(dir, f), 'utf8');
      if (!new RegExp(`^To: .*${email.replace(/[.+]/g, '\\$&')}`, 'mi').test(text)) continue;
      const link = linkIn(text, kind);
      if (link) return link;
    }
    return undefined;
  };
  const now = find();
  if (now) return now;
  const parent = app.deps.config.dataDir;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      watcher.close();
      reject(new Error(`no ${kind} mail to ${email} in the outbox`));
    }, 20_000);
    const watcher = watch(parent, { recursive: true }, () => {
      const found = find();
      if (found) {
        clearTimeout(timer);
        watcher.close();
        resolve(found);
      }
    });
  });
}

/** The first http(s) link in a message's text part that contains `kind`. */
export function linkIn(message: string, kind: string): string | undefined {
  const unfolded = message.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
  return unfolded.match(/https?:\/\/[^\s"<>]+/g)?.find((l) => l.includes(kind));
}

/** Forgets this client's auth rate-limit counters (the fixed window the limiter uses). */
export async function clearAuthLimits(app: TestApp): Promise<void> {
  const windowMs = 15 * 60_000;
  const start = Math.floor(Date.now() / windowMs) * windowMs;
  for (const action of ['sign-in', 'sign-up', 'reset', 'verify-resend']) {
    for (const ip of ['127.0.0.1', '::ffff:127.0.0.1', '::1']) await app.deps.store.cache.delete(`rl:auth:${action}:${ip}:${start}`);
  }
}
