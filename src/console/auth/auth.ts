import { betterAuth, type BetterAuthOptions } from 'better-auth';
import { verifyGoogleIdToken } from 'better-auth/social-providers';
import { PostgresDialect } from 'kysely';
import { kyselyPool, newId, randomBase62, type Db } from '../../store/index.js';

/**
 * better-auth over our own database. Its four tables are in migration 011_auth.sql under
 * our names (auth_users, auth_sessions, auth_accounts, auth_verifications, snake_case
 * columns); its own migrator never runs. Sign-up needs a verified email before a session is
 * handed out; the console's rate limits are ours (auth/rate-limit.ts), so its own is off.
 */
export const SESSION_EXPIRES_S = 30 * 24 * 3600;
/** A session's expiry is pushed out at most once per this much activity. */
export const SESSION_UPDATE_AGE_S = 24 * 3600;
export const AUTH_BASE_PATH = '/api/auth';
/** Set by our handler from the socket (or the trusted proxy's X-Forwarded-For); whatever a client sent under it is replaced. */
export const CLIENT_IP_HEADER = 'x-userz-client-ip';

export interface AuthMailHooks {
  sendVerification(to: { email: string; name: string }, url: string): Promise<void>;
  sendReset(to: { email: string; name: string }, url: string): Promise<void>;
  /** The user's address is now verified (by link or by Google): first-owner and invite bookkeeping. */
  afterVerified(user: { id: string; email: string; name: string }): Promise<void>;
}

export interface AuthSettings {
  db: Db;
  secret: string;
  publicUrl: string;
  google?: { clientId: string; clientSecret: string };
  hooks: AuthMailHooks;
  /** better-auth's own warnings and errors (never a password or token: it logs messages only). */
  log?: (level: 'warn' | 'error', message: string) => void;
}

/** Field names in our tables (better-auth's are camelCase). Shared with the schema generator. */
export const AUTH_SCHEMA = {
  user: {
    modelName: 'auth_users',
    fields: { emailVerified: 'email_verified', createdAt: 'created_at', updatedAt: 'updated_at' },
  },
  session: {
    modelName: 'auth_sessions',
    fields: {
      expiresAt: 'expires_at',
      createdAt: 'created_at',
      updatedAt: 'updated_at',
      ipAddress: 'ip_address',
      userAgent: 'user_agent',
      userId: 'user_id',
    },
  },
  account: {
    modelName: 'auth_accounts',
    fields: {
      accountId: 'account_id',
      providerId: 'provider_id',
      userId: 'user_id',
      accessToken: 'access_token',
      refreshToken: 'refresh_token',
      idToken: 'id_token',
      accessTokenExpiresAt: 'access_token_expires_at',
      refreshTokenExpiresAt: 'refresh_token_expires_at',
      createdAt: 'created_at',
      updatedAt: 'updated_at',
    },
  },
  verification: {
    modelName: 'auth_verifications',
    fields: { expiresAt: 'expires_at', createdAt: 'created_at', updatedAt: 'updated_at' },
  },
} as const;

export function authOptions(s: AuthSettings): BetterAuthOptions {
  const origin = new URL(s.publicUrl).origin;
  const secure = new URL(s.publicUrl).protocol === 'https:';
  // Postgres: its Pool, with better-auth's transactions. PGlite: one query at a time
  // through the embedded Db's chain, so no transactions of its own (they would interleave).
  const database =
    s.db.kind === 'postgres'
      ? kyselyPool(s.db)
      : { dialect: new PostgresDialect({ pool: kyselyPool(s.db) as never }), type: 'postgres' as const, transaction: false };
  return {
    appName: 'Userz',
    baseURL: s.publicUrl,
    basePath: AUTH_BASE_PATH,
    secret: s.secret,
    database: database as BetterAuthOptions['database'],
    trustedOrigins: [origin],
    telemetry: { enabled: false },
    logger: { level: 'warn', log: (level, message) => (level === 'warn' || level === 'error' ? s.log?.(level, message) : undefined) },
    rateLimit: { enabled: false },
    user: AUTH_SCHEMA.user,
    session: { ...AUTH_SCHEMA.session, expiresIn: SESSION_EXPIRES_S, updateAge: SESSION_UPDATE_AGE_S, cookieCache: { enabled: false } },
    // Google links to an existing account only when Google says the address is verified and
    // the local account verified it too (no trusted-provider shortcut: an unverified claim must not take over an account).
    account: { ...AUTH_SCHEMA.account, accountLinking: { enabled: true, requireLocalEmailVerified: true } },
    verification: AUTH_SCHEMA.verification,
    emailAndPassword: {
      enabled: true,
      requireEmailVerification: true,
      minPasswordLength: 10,
      autoSignIn: false,
      revokeSessionsOnPasswordReset: true,
      resetPasswordTokenExpiresIn: 3600,
      sendResetPassword: async ({ user, url }) => s.hooks.sendReset(user, url),
    },
    emailVerification: {
      sendOnSignUp: true,
      sendOnSignIn: true,
      autoSignInAfterVerification: true,
      expiresIn: 24 * 3600,
      sendVerificationEmail: async ({ user, url }) => s.hooks.sendVerification(user, url),
      afterEmailVerification: async (user) => s.hooks.afterVerified(user),
    },
    socialProviders: s.google
      ? {
          google: {
            clientId: s.google.clientId,
            clientSecret: s.google.clientSecret,
            // The ID token from the code exchange is checked against Google's keys (issuer,
            // audience, signature, age), not only decoded.
            getUserInfo: async (tokens) => {
              if (!tokens.idToken) return null;
              const claims = await verifyGoogleIdToken({ token: tokens.idToken, audience: s.google!.clientId });
              if (!claims || typeof claims.email !== 'string' || typeof claims.sub !== 'string') return null;
              return {
                user: {
                  email: claims.email,
                  name: typeof claims.name === 'string' ? claims.name : claims.email,
                  image: typeof claims.picture === 'string' ? claims.picture : undefined,
                  emailVerified: claims.email_verified === true,
                },
                data: claims as never,
              };
            },
          },
        }
      : undefined,
    databaseHooks: {
      // Google-verified sign-ups never pass through the verification link.
      user: { create: { after: async (user) => (user.emailVerified ? s.hooks.afterVerified(user) : undefined) } },
    },
    advanced: {
      useSecureCookies: secure,
      defaultCookieAttributes: { httpOnly: true, sameSite: 'lax', secure, path: '/' },
      cookiePrefix: 'userz',
      ipAddress: { ipAddressHeaders: [CLIENT_IP_HEADER] },
      database: { generateId: ({ model }) => (model === 'user' || model === 'auth_users' ? newId('usr') : randomBase62(32)) },
    },
  };
}

export function createBetterAuth(s: AuthSettings) {
  return betterAuth(authOptions(s));
}

export type BetterAuth = ReturnType<typeof createBetterAuth>;
