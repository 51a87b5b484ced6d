import { createHash, timingSafeEqual } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { UserzError } from '../errors.js';
import { markApiKeyUsed, type Cache, type Queryable } from '../store/index.js';
import { findApiKeyRow, invalidApiKey, parseApiKey, revokeApiKey, scryptSecretHash, secretMatches, type SecretHash, type VerifiedApiKey } from './api-keys.js';
import { ConcurrencyGate } from './concurrency-gate.js';
import { RateLimiter, type RateLimitCheck, type RateLimitRule } from './rate-limit.js';
import { VerifiedKeyCache } from './verified-key-cache.js';

/** Failed verifications allowed per window, per client address and per key prefix. */
export interface ApiKeyLimits {
  failuresPerAddress: RateLimitRule;
  failuresPerPrefix: RateLimitRule;
}

export const DEFAULT_API_KEY_LIMITS: ApiKeyLimits = {
  failuresPerAddress: { name: 'api_key:failures:address', limit: 20, windowMs: 60_000 },
  failuresPerPrefix: { name: 'api_key:failures:prefix', limit: 10, windowMs: 60_000 },
};

/** How often a key's last use is written, per process. */
const LAST_USED_EVERY_MS = 60_000;

export interface ApiKeyVerifierOptions {
  db: Queryable;
  /** The shared cache (Redis in production), so failure counts hold across replicas. */
  cache: Cache;
  limits?: Partial<ApiKeyLimits>;
  /** Slow hashes running at once; default half the cores (at least 1), so a flood leaves CPU for everything else. */
  maxConcurrentHashes?: number;
  /** Verifications waiting for a hash slot; one more is answered 503 `api_key_verification_busy`. */
  maxWaitingHashes?: number;
  /** How long after its last use this process keeps its own proof of a key (see rememberedKey). */
  verifiedTtlMs?: number;
  verifiedMaxEntries?: number;
  /** The slow hash (scrypt); tests pass a counting one. */
  hash?: SecretHash;
  now?: () => number;
}

/**
 * Verifies `sk_` keys on request paths without handing callers a CPU lever. A correct key
 * costs one scrypt per process per TTL; everything else is bounded:
 * - malformed keys and bad checksums are refused before any I/O (api-keys.ts);
 * - failed verifications are counted per client address and per prefix in the shared
 *   cache; once a bucket is spent, the next attempt is answered 429 `rate_limited` with
 *   Retry-After before any hash is computed;
 * - at most `maxConcurrentHashes` scrypt computations (with their row lookup) run at once,
 *   with a short queue; a caller beyond it gets 503 `api_key_verification_busy` at once,
 *   counted as a failure of its address and prefix.
 * The success cache is consulted before the failure limits, so a flood of forged secrets
 * under a known prefix cannot lock out a key this process has already proven.
 */
export class ApiKeyVerifier {
  private readonly db: Queryable;
  private readonly limiter: RateLimiter;
  private readonly limits: ApiKeyLimits;
  private readonly gate: ConcurrencyGate;
  private readonly verified: VerifiedKeyCache;
  private readonly hash: SecretHash;
  private readonly now: () => number;
  private readonly lastNoted = new Map<string, number>();

  constructor(opts: ApiKeyVerifierOptions) {
    this.db = opts.db;
    this.limiter = new RateLimiter(opts.cache);
    this.limits = { ...DEFAULT_API_KEY_LIMITS, ...opts.limits };
    this.gate = new ConcurrencyGate({
      maxActive: opts.maxConcurrentHashes ?? Math.max(1, Math.floor(availableParallelism() / 2)),
      maxWaiting: opts.maxWaitingHashes ?? 16,
      busyCode: BUSY,
      busyMessage: 'Too many API key verifications are in progress; retry shortly',
    });
    this.verified = new VerifiedKeyCache(opts.verifiedTtlMs ?? 60_000, opts.verifiedMaxEntries ?? 10_000, opts.now);
    this.hash = opts.hash ?? scryptSecretHash;
    this.now = opts.now ?? Date.now;
  }

  /** Throws 401 `invalid_api_key`, 429 `rate_limited` or 503 `api_key_verification_busy`. */
  async verify(presented: string | undefined, clientAddress: string | null): Promise<VerifiedApiKey> {
    const trimmed = presented?.trim() ?? '';
    const parsed = parseApiKey(trimmed);
    if (!parsed) throw invalidApiKey();
    const digest = createHash('sha256').update(trimmed).digest('hex');
    const remembered = await this.rememberedKey(digest, parsed.prefix);
    if (remembered) {
      await this.noteUse(remembered.id);
      return remembered;
    }

    const checks = this.failureChecks(parsed.prefix, clientAddress);
    await this.limiter.refuseIfSpent(checks);
    const proven = await this.gate
      .run(async () => {
        // Looked at again once a slot is ours: a burst that queued before its first
        // failures were counted stops here instead of hashing.
        await this.limiter.refuseIfSpent(checks);
        const row = await findApiKeyRow(this.db, parsed.prefix);
        return (await secretMatches(row, parsed.secret, this.hash)) && row && !row.revoked ? row : null;
      })
      .catch(async (e: unknown) => {
        // Turned away at a full gate counts as a failure too: one address that keeps the
        // queue full soon gets 429s, which cost nothing, instead of 503s.
        if (e instanceof UserzError && e.code === BUSY) await this.limiter.hit(checks);
        throw e;
      });
    if (!proven) {
      await this.limiter.hit(checks);
      throw invalidApiKey();
    }
    const key = { id: proven.id, orgId: proven.orgId, prefix: parsed.prefix, scopes: proven.scopes };
    this.verified.remember(digest, key, sha256(proven.hash));
    await this.noteUse(key.id);
    return key;
  }

  /** A key's "last used" is written at most once a minute per process, so a busy key costs one small write a minute, not one per request. */
  private async noteUse(keyId: string): Promise<void> {
    const now = this.now();
    if ((this.lastNoted.get(keyId) ?? -Infinity) > now - LAST_USED_EVERY_MS) return;
    if (this.lastNoted.size >= 10_000) this.lastNoted.clear();
    this.lastNoted.set(keyId, now);
    await markApiKeyUsed(this.db, keyId);
  }

  /** Revokes the key and forgets this process's proof of it at once. */
  async revoke(orgId: string, keyId: string, actor: string): Promise<boolean> {
    const revoked = await revokeApiKey(this.db, orgId, keyId, actor);
    this.verified.forgetKey(keyId);
    return revoked;
  }

  /**
   * A key this process proved within the TTL, re-read from its row (the one indexed query
   * a miss makes as well) so that a revocation made anywhere, by this process or another
   * replica, refuses it on the very next request. The TTL (60 s after last use) therefore
   * never delays a revocation on any replica: it only bounds how long an idle key's proof
   * stays in this replica's memory; each replica proves a key once for itself. A proof for
   * another row (or a changed hash) is not reused.
   */
  private async rememberedKey(digest: string, prefix: string): Promise<VerifiedApiKey | null> {
    const entry = this.verified.get(digest);
    if (!entry) return null;
    const row = await findApiKeyRow(this.db, prefix);
    const same = row !== null && row.id === entry.key.id && timingSafeEqual(sha256(row.hash), entry.storedHashDigest);
    if (same && !row.revoked) return { ...entry.key, scopes: row.scopes };
    this.verified.drop(digest);
    // The secret was proven and the key is now revoked: refuse without hashing or counting.
    if (same) throw invalidApiKey();
    return null;
  }

  private failureChecks(prefix: string, clientAddress: string | null): RateLimitCheck[] {
    const checks: RateLimitCheck[] = [{ rule: this.limits.failuresPerPrefix, subject: prefix }];
    if (clientAddress) checks.push({ rule: this.limits.failuresPerAddress, subject: clientAddress });
    return checks;
  }
}

const BUSY = 'api_key_verification_busy';
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();
