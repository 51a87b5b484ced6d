import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { toNodeHandler } from 'better-auth/node';
import type { Config } from '../../config/index.js';
import { UserzError } from '../../errors.js';
import { clientIp, sendError } from '../../http/index.js';
import type { Logger } from '../../log/index.js';
import { createMailer, resetMail, verificationMail, type Mailer } from '../../mail/index.js';
import type { RateLimiter, Vault } from '../../security/index.js';
import { acceptOperatorInvites, addMember, anyOperatorInvite, anyOrgMember, insertOrg, listMemberships, listOrgs, type Db } from '../../store/index.js';
import { memberPrincipal } from '../../tenant/index.js';
import type { ConsoleAuth, ConsoleSession } from '../context.js';
import { AUTH_BASE_PATH, CLIENT_IP_HEADER, createBetterAuth, type BetterAuth } from './auth.js';
import { authSecret } from './secret.js';

/** 10 requests per 15 minutes per client address, for each of the four auth actions. */
export const AUTH_RATE_LIMIT = { limit: 10, windowMs: 15 * 60_000 };
export type AuthAction = 'sign-in' | 'sign-up' | 'reset' | 'verify-resend';

/** better-auth's own endpoints for the same four actions count against the same buckets. */
const AUTH_API_ACTIONS: Record<string, AuthAction> = {
  [`${AUTH_BASE_PATH}/sign-in/email`]: 'sign-in',
  [`${AUTH_BASE_PATH}/sign-in/social`]: 'sign-in',
  [`${AUTH_BASE_PATH}/sign-up/email`]: 'sign-up',
  [`${AUTH_BASE_PATH}/request-password-reset`]: 'reset',
  [`${AUTH_BASE_PATH}/reset-password`]: 'reset',
  [`${AUTH_BASE_PATH}/send-verification-email`]: 'verify-resend',
};

export const ORG_COOKIE = 'userz_org';

export interface ConsoleAuthDeps {
  db: Db;
  vault: Vault;
  config: Pick<Config, 'publicUrl' | 'dataDir' | 'trustProxy' | 'auth' | 'mail' | 'database' | 'masterKeyring'>;
  log: Logger;
  rateLimiter: RateLimiter;
  /** Tests pass their own; default from config.mail. */
  mailer?: Mailer;
}

export interface ConsoleAuthService extends ConsoleAuth {
  readonly betterAuth: BetterAuth;
  readonly mailer: Mailer;
  readonly publicOrigin: string;
  readonly secureCookies: boolean;
  /** Whether "Sign in with Google" is configured (the button shows only then). */
  readonly googleEnabled: boolean;
  /**
   * A Probot handler to run before the router: it answers better-auth's own routes under
   * /api/auth/* (rate-limited like the console's forms) and remembers each request's
   * response, so a session refreshed while a page reads it gets its new cookie.
   */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Counts one auth request of this client; throws 429 `rate_limited` past the limit. */
  limit(req: IncomingMessage, action: AuthAction): Promise<void>;
  /** Calls a better-auth endpoint as this browser (its cookies, our client address header). */
  call(req: IncomingMessage, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Response>;
  /** Throws 403 `csrf_failed` unless Origin (or Referer) is the console's own origin. Signed-out forms. */
  checkOrigin(req: IncomingMessage): void;
  clientIp(req: IncomingMessage): string;
  /** One line for the boot log: who becomes the first owner. */
  describeFirstOwner(): Promise<string>;
  close(): void;
}

export function createConsoleAuth(deps: ConsoleAuthDeps): ConsoleAuthService {
  const { db, config, log } = deps;
  const publicOrigin = new URL(config.publicUrl).origin;
  const secureCookies = new URL(config.publicUrl).protocol === 'https:';
  const secret = authSecret({
    configured: config.auth.secret,
    file: config.database.kind === 'pglite' ? join(config.dataDir, 'auth.secret') : undefined,
    masterKeyring: config.masterKeyring,
  });
  const csrfKey = createHmac('sha256', secret).update('userz console csrf').digest();
  const mailer =
    deps.mailer ??
    createMailer({ smtpUrl: config.mail.smtpUrl, from: config.mail.from, outboxDir: join(config.dataDir, 'outbox'), log: log.child({ name: 'mail' }) });
  const authLog = log.child({ name: 'auth' });

  const afterVerified = async (user: { id: string; email: string; name: string }) => {
    const joined = await acceptOperatorInvites(db, user);
    if (joined.length > 0) {
      authLog.info({ user: user.id, orgs: joined }, 'Named owner verified their email: now owner of the org userz init made');
      return;
    }
    if (db.kind !== 'pglite') return;
    const promoted = await db.transaction(async (tx) => {
      if ((await anyOrgMember(tx)) || (await anyOperatorInvite(tx))) return null;
      let org = (await listOrgs(tx))[0];
      if (!org) {
        org = await insertOrg(tx, `${user.name || user.email.split('@')[0]}'s org`, `user:${user.id}`);
        await deps.vault.createOrgKey(tx, org.id);
      }
      await addMember(tx, { orgId: org.id, userId: user.id, role: 'owner', actor: 'system' });
      return org;
    });
    if (promoted) authLog.info({ user: user.id, org: promoted.id }, 'First user verified on the embedded database: now owner of the first org');
  };

  const betterAuth = createBetterAuth({
    db,
    secret,
    publicUrl: config.publicUrl,
    google: config.auth.google,
    hooks: {
      sendVerification: (to, url) => mailer.send(verificationMail(to, url)),
      sendReset: (to, url) => mailer.send(resetMail(to, url)),
      afterVerified,
    },
    log: (level, message) => authLog[level]({ from: 'better-auth' }, message),
  });
  const nodeHandler = toNodeHandler(betterAuth);
  const responses = new WeakMap<IncomingMessage, ServerResponse>();

  const ipOf = (req: IncomingMessage) => clientIp(req, config.trustProxy) ?? 'unknown';

  const headersOf = (req: IncomingMessage): Headers => {
    const h = new Headers();
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined || k === CLIENT_IP_HEADER) continue;
      if (Array.isArray(v)) v.forEach((x) => h.append(k, x));
      else h.set(k, v);
    }
    h.set(CLIENT_IP_HEADER, ipOf(req));
    return h;
  };

  const csrfFor = (sessionId: string) => createHmac('sha256', csrfKey).update(sessionId).digest('base64url');

  const service: ConsoleAuthService = {
    betterAuth,
    mailer,
    publicOrigin,
    secureCookies,
    googleEnabled: !!config.auth.google,
    clientIp: ipOf,

    async session(req) {
      const got = await betterAuth.api.getSession({ headers: headersOf(req), returnHeaders: true });
      const found = got.response;
      if (!found || !found.user.emailVerified) return null;
      // A refresh (at most once per 24 h) re-issues the cookie with the new expiry.
      const refreshed = got.headers?.getSetCookie?.() ?? [];
      const res = responses.get(req);
      if (refreshed.length > 0 && res && !res.headersSent) res.appendHeader('set-cookie', refreshed);
      const memberships = await listMemberships(db, found.user.id);
      const wanted = readCookie(req, ORG_COOKIE);
      const current = memberships.find((m) => m.orgId === wanted) ?? memberships[0];
      const session: ConsoleSession = {
        sessionId: found.session.id,
        user: { id: found.user.id, email: found.user.email, name: found.user.name },
        memberships,
        principal: current ? memberPrincipal({ userId: found.user.id, orgId: current.orgId, role: current.role }) : null,
        csrfToken: csrfFor(found.session.id),
      };
      return session;
    },

    checkCsrf(req, session, token) {
      service.checkOrigin(req);
      const expected = Buffer.from(csrfFor(session.sessionId));
      const given = Buffer.from(token ?? '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new UserzError('csrf_failed', 'This form is stale or was not sent from the console: reload the page and try again');
      }
    },

    checkOrigin(req) {
      const origin = typeof req.headers.origin === 'string' ? req.headers.origin : refererOrigin(req.headers.referer);
      if (origin !== publicOrigin) throw new UserzError('csrf_failed', 'This form was not sent from the console');
    },

    async limit(req, action) {
      await deps.rateLimiter.hit([{ rule: { name: `auth:${action}`, ...AUTH_RATE_LIMIT }, subject: ipOf(req) }]);
    },

    async call(req, method, path, body) {
      const headers = headersOf(req);
      headers.delete('content-length');
      headers.delete('transfer-encoding');
      if (body !== undefined) headers.set('content-type', 'application/json');
      return betterAuth.handler(
        new Request(`${config.publicUrl}${AUTH_BASE_PATH}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }),
      );
    },

    async handle(req, res) {
      responses.set(req, res);
      const path = (req.url ?? '/').split('?')[0]!;
      if (path !== AUTH_BASE_PATH && !path.startsWith(`${AUTH_BASE_PATH}/`)) return false;
      const action = req.method === 'POST' ? AUTH_API_ACTIONS[path] : undefined;
      try {
        if (action) await service.limit(req, action);
        req.headers[CLIENT_IP_HEADER] = ipOf(req);
        await nodeHandler(req, res);
      } catch (err) {
        sendError(res, err, authLog);
      }
      return true;
    },

    async describeFirstOwner() {
      if (await anyOrgMember(db)) return 'Console: orgs have owners; owners and admins invite members on /members';
      if (await anyOperatorInvite(db)) return 'Console: the owner named by `userz init --owner` becomes owner when they verify their email';
      return db.kind === 'pglite'
        ? 'Console: no owner yet; the first user to sign up and verify their email becomes owner of the first org'
        : 'Console: no owner yet; name one with `userz init --owner EMAIL` (on Postgres the first sign-up is not made owner)';
    },

    close() {
      mailer.close();
    },
  };
  return service;
}

function refererOrigin(referer: string | undefined): string | undefined {
  if (!referer) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return undefined;
  }
}

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** An invite link's token (shown once, in the mail) and the hash the database keeps. */
export function newInviteToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashInviteToken(token) };
}

export function hashInviteToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
