import { errors as joseErrors, jwtVerify } from 'jose';
import { UserzError } from '../../errors.js';
import type { Vault } from '../../security/index.js';
import type { App } from '../../store/index.js';

const CLOCK_SKEW_SECONDS = 30;
/** A user token is a short-lived proof of a signed-in user: a leaked one must not stay useful for days. */
export const MAX_USER_TOKEN_LIFETIME_SECONDS = 24 * 3600;
// Decrypted signing keys kept in process memory briefly, so a busy private-mode App does
// not decrypt (and audit a decrypt) on every report. Never written anywhere.
const KEY_TTL_MS = 5 * 60_000;

export interface VerifiedUser {
  /** The host product's user id (`sub`), used as the reporter key. */
  subject: string;
}

const invalidUserToken = (why: string) => new UserzError('invalid_user_token', `The user token is not valid: ${why}`);

/**
 * Private mode: the host page's backend signs an HS256 JWT with the App's signing secret.
 * We require HS256 only, an `exp`, and the App id as `aud`, with a small clock skew, so a
 * token for one App is refused by every other.
 */
export class UserTokenVerifier {
  private readonly keys = new Map<string, { secretId: string; key: Uint8Array; expires: number }>();

  constructor(private readonly vault: Vault) {}

  async verify(app: App, token: string): Promise<VerifiedUser> {
    if (!app.signingSecretId) throw invalidUserToken('this App has no signing secret');
    const key = await this.keyFor(app.id, app.signingSecretId);
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: ['HS256'],
        audience: app.id,
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ['exp'],
      });
      if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 200) throw invalidUserToken('`sub` must name the user');
      refuseLongLived(payload.exp!, payload.iat);
      return { subject: payload.sub };
    } catch (e) {
      if (e instanceof UserzError) throw e;
      if (e instanceof joseErrors.JWTExpired) throw invalidUserToken('it has expired');
      if (e instanceof joseErrors.JWTClaimValidationFailed) throw invalidUserToken(`claim ${e.claim} failed`);
      throw invalidUserToken('bad signature or format');
    }
  }

  forget(appId: string): void {
    this.keys.delete(appId);
  }

  private async keyFor(appId: string, secretId: string): Promise<Uint8Array> {
    // Keyed by the secret too: once a rotation is seen, the old secret's key is not used again.
    const cached = this.keys.get(appId);
    if (cached && cached.secretId === secretId && cached.expires > Date.now()) return cached.key;
    const secret = await this.vault.revealSecret(secretId, { actor: 'intake', purpose: 'verify widget user token' });
    const key = new TextEncoder().encode(secret);
    this.keys.set(appId, { secretId, key, expires: Date.now() + KEY_TTL_MS });
    return key;
  }
}

/**
 * The lifetime is `exp` − `iat`, or `exp` − now without `iat`; over 24 h is refused. With an
 * `iat`, the time left is checked as well (plus the clock skew), so an `iat` dated in the
 * future cannot stretch a token's life.
 */
function refuseLongLived(exp: number, iat: number | undefined): void {
  const now = Math.floor(Date.now() / 1000);
  const lifetime = iat === undefined ? exp - now : exp - iat;
  if (lifetime > MAX_USER_TOKEN_LIFETIME_SECONDS || exp - now > MAX_USER_TOKEN_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS) {
    throw new UserzError(
      'user_token_lifetime_too_long',
      'The user token lives longer than 24 hours (exp − iat, or exp − now without iat); mint short-lived tokens',
    );
  }
}
