import { ApiKeyVerifier, formatApiKey, issueApiKey, parseApiKey, revokeApiKey, scryptSecretHash, type SecretHash } from '../../src/security/index.js';
import { createCache, insertOrg, randomBase62, type Cache, type Db } from '../../src/store/index.js';
import { openTestDb, TEST_REDIS_URL } from '../helpers/db.js';

/** scrypt, counted: how many slow hashes ran, and the most that ran at the same time. */
function countingHash(): SecretHash & { calls: number; maxInFlight: number } {
  let inFlight = 0;
  const hash = Object.assign(
    async (secret: Buffer, salt: Buffer) => {
      hash.calls++;
      inFlight++;
      hash.maxInFlight = Math.max(hash.maxInFlight, inFlight);
      try {
        return await scryptSecretHash(secret, salt);
      } finally {
        inFlight--;
      }
    },
    { calls: 0, maxInFlight: 0 },
  );
  return hash;
}

const forgedKey = (prefix = randomBase62(12)) => formatApiKey(prefix, randomBase62(43));
// Fixed windows start at multiples of their length: one of ten years never rolls over mid-test.
const rule = (name: string, limit: number) => ({ name, limit, windowMs: 10 * 365 * 24 * 3600_000 });

describe('API key verifier', () => {
  let db: Db;
  let cache: Cache;
  let orgId: string;
  beforeAll(async () => {
    db = await openTestDb('pglite');
    orgId = (await insertOrg(db, 'acme', 'test')).id;
  }, 120_000);
  afterAll(async () => db.close());
  beforeEach(() => {
    cache = createCache({ kind: 'memory' }, `t${Math.random()}`);
  });
  afterEach(async () => cache.close());

  it('refuses forged keys from one address with 429 and Retry-After once its failure budget is spent, without hashing them', async () => {
    const hash = countingHash();
    const verifier = new ApiKeyVerifier({ db, cache, hash, limits: { failuresPerAddress: rule('t:addr', 3) } });
    for (let i = 0; i < 3; i++) await expect(verifier.verify(forgedKey(), '203.0.113.9')).rejects.toMatchObject({ code: 'invalid_api_key', status: 401 });
    expect(hash.calls).toBe(3);
    for (let i = 0; i < 20; i++) {
      const err = await verifier.verify(forgedKey(), '203.0.113.9').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'rate_limited', status: 429, retryable: true, details: { bucket: 't:addr' } });
      expect((err as { details: { retryAfterSeconds: number } }).details.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    }
    expect(hash.calls).toBe(3);
    // Another address has its own budget.
    await expect(verifier.verify(forgedKey(), '198.51.100.1')).rejects.toMatchObject({ code: 'invalid_api_key' });
  });

  it('limits failed verifications per key prefix across addresses, yet keeps serving the real key it has proven', async () => {
    const issued = await issueApiKey(db, orgId, { actor: 'test' });
    const hash = countingHash();
    const verifier = new ApiKeyVerifier({ db, cache, hash, limits: { failuresPerPrefix: rule('t:prefix', 2) } });
    await expect(verifier.verify(issued.key, '192.0.2.1')).resolves.toMatchObject({ id: issued.id });
    for (let i = 0; i < 2; i++) await expect(verifier.verify(forgedKey(issued.prefix), `10.0.0.${i}`)).rejects.toMatchObject({ code: 'invalid_api_key' });
    await expect(verifier.verify(forgedKey(issued.prefix), '10.0.0.99')).rejects.toMatchObject({
      code: 'rate_limited',
      status: 429,
      details: { bucket: 't:prefix' },
    });
    expect(hash.calls).toBe(3);
    await expect(verifier.verify(issued.key, '192.0.2.1')).resolves.toMatchObject({ id: issued.id });
    expect(hash.calls).toBe(3);
  });

  it('does not count successes or malformed keys as failures', async () => {
    const issued = await issueApiKey(db, orgId, { actor: 'test' });
    const hash = countingHash();
    const verifier = new ApiKeyVerifier({ db, cache, hash, verifiedTtlMs: 0, limits: { failuresPerAddress: rule('t:addr', 1) } });
    for (let i = 0; i < 3; i++) await expect(verifier.verify(issued.key, '192.0.2.7')).resolves.toMatchObject({ id: issued.id });
    for (const bad of [undefined, '', 'sk_short', `${issued.key.slice(0, -1)}${issued.key.endsWith('a') ? 'b' : 'a'}`]) {
      await expect(verifier.verify(bad, '192.0.2.7')).rejects.toMatchObject({ code: 'invalid_api_key' });
    }
    expect(hash.calls).toBe(3);
    await expect(verifier.verify(forgedKey(), '192.0.2.7')).rejects.toMatchObject({ code: 'invalid_api_key' });
    await expect(verifier.verify(forgedKey(), '192.0.2.7')).rejects.toMatchObject({ code: 'rate_limited' });
  });

  it('runs at most maxConcurrentHashes slow hashes at once and answers 503 beyond the waiting bound instead of queueing', async () => {
    let open = false;
    const held: Array<() => void> = [];
    let busy = 0;
    let onSorted!: () => void;
    // Resolves once the ten calls have sorted themselves (five turned away, two hashing),
    // or as soon as a third hash starts while the first two are held (the bound is broken).
    const sorted = new Promise<void>((r) => (onSorted = r));
    const check = () => {
      if ((busy === 5 && held.length === 2) || held.length > 2) onSorted();
    };
    const counted = countingHash();
    const hash: SecretHash = async (secret, salt) => {
      if (!open) {
        await new Promise<void>((r) => {
          held.push(r);
          check();
        });
      }
      return counted(secret, salt);
    };
    const verifier = new ApiKeyVerifier({ db, cache, hash, maxConcurrentHashes: 2, maxWaitingHashes: 3 });
    const outcomes = Array.from({ length: 10 }, () =>
      verifier.verify(forgedKey(), null).catch((e: { code: string; status: number; details?: { retryAfterSeconds?: number } }) => {
        if (e.code === 'api_key_verification_busy') {
          expect(e.status).toBe(503);
          expect(e.details?.retryAfterSeconds).toBe(1);
          busy++;
          check();
        }
        return e.code;
      }),
    );
    // Ten at once against 2 slots + 3 waiting places: five are turned away while two hash.
    await sorted;
    expect(held).toHaveLength(2);
    expect(busy).toBe(5);
    open = true;
    for (const release of held.splice(0)) release();
    const codes = await Promise.all(outcomes);
    expect(codes.filter((c) => c === 'api_key_verification_busy')).toHaveLength(5);
    expect(codes.filter((c) => c === 'invalid_api_key')).toHaveLength(5);
    expect(counted.calls).toBe(5);
    expect(counted.maxInFlight).toBeLessThanOrEqual(2);
  });

  it('counts a caller turned away at a full gate against its address, so a flood soon gets 429s instead of 503s', async () => {
    const held: Array<() => void> = [];
    let onHeld!: () => void;
    const holding = new Promise<void>((r) => (onHeld = r));
    const hash: SecretHash = async (secret, salt) => {
      await new Promise<void>((r) => {
        held.push(r);
        onHeld();
      });
      return scryptSecretHash(secret, salt);
    };
    const verifier = new ApiKeyVerifier({ db, cache, hash, maxConcurrentHashes: 1, maxWaitingHashes: 0, limits: { failuresPerAddress: rule('t:addr', 2) } });
    const first = verifier.verify(forgedKey(), '203.0.113.77').catch((e: { code: string }) => e.code);
    await holding;
    for (let i = 0; i < 2; i++)
      await expect(verifier.verify(forgedKey(), '203.0.113.77')).rejects.toMatchObject({ code: 'api_key_verification_busy', status: 503 });
    await expect(verifier.verify(forgedKey(), '203.0.113.77')).rejects.toMatchObject({ code: 'rate_limited', status: 429 });
    held[0]!();
    expect(await first).toBe('rate_limited');
    expect(held).toHaveLength(1);
  });

  it('skips scrypt for a key it proved, while it is used within the TTL, and hashes again after an idle TTL', async () => {
    const issued = await issueApiKey(db, orgId, { actor: 'test' });
    const hash = countingHash();
    let now = 1_000_000;
    const verifier = new ApiKeyVerifier({ db, cache, hash, verifiedTtlMs: 60_000, now: () => now });
    await expect(verifier.verify(issued.key, null)).resolves.toMatchObject({ id: issued.id, orgId });
    for (let i = 0; i < 5; i++) await expect(verifier.verify(` ${issued.key} `, null)).resolves.toMatchObject({ id: issued.id, orgId });
    for (let i = 0; i < 3; i++) {
      now += 50_000;
      await expect(verifier.verify(issued.key, null)).resolves.toMatchObject({ id: issued.id });
    }
    expect(hash.calls).toBe(1);
    now += 60_001;
    await expect(verifier.verify(issued.key, null)).resolves.toMatchObject({ id: issued.id });
    expect(hash.calls).toBe(2);
  });

  it('does not let a forged secret ride on the cached proof of the real key under the same prefix', async () => {
    const issued = await issueApiKey(db, orgId, { actor: 'test' });
    const hash = countingHash();
    const verifier = new ApiKeyVerifier({ db, cache, hash });
    await verifier.verify(issued.key, null);
    await expect(verifier.verify(forgedKey(parseApiKey(issued.key)!.prefix), null)).rejects.toMatchObject({ code: 'invalid_api_key' });
    expect(hash.calls).toBe(2);
  });

  it('refuses a cached key right after its revocation, in this process and when another process revoked it', async () => {
    const hash = countingHash();
    const verifier = new ApiKeyVerifier({ db, cache, hash });
    const mine = await issueApiKey(db, orgId, { actor: 'test' });
    const theirs = await issueApiKey(db, orgId, { actor: 'test' });
    await verifier.verify(mine.key, null);
    await verifier.verify(theirs.key, null);
    expect(hash.calls).toBe(2);

    expect(await verifier.revoke(orgId, mine.id, 'test')).toBe(true);
    await expect(verifier.verify(mine.key, null)).rejects.toMatchObject({ code: 'invalid_api_key', status: 401 });
    // Revoked through the plain store function, as another replica (or the CLI) would.
    expect(await revokeApiKey(db, orgId, theirs.id, 'test')).toBe(true);
    await expect(verifier.verify(theirs.key, null)).rejects.toMatchObject({ code: 'invalid_api_key', status: 401 });
    await expect(verifier.verify(theirs.key, null)).rejects.toMatchObject({ code: 'invalid_api_key', status: 401 });
  });
});

describe('API key failure limits across replicas', () => {
  let db: Db;
  let cache: Cache;
  beforeAll(async () => {
    db = await openTestDb('postgres');
    cache = createCache({ kind: 'redis', url: TEST_REDIS_URL }, `t${Math.random().toString(36).slice(2)}`);
  }, 120_000);
  afterAll(async () => {
    await cache.close();
    await db.close();
  });

  it('counts failures on one replica against the same address on another (shared Redis)', async () => {
    // A day, not ten years: these counters live on the shared Redis server until they expire.
    const limits = { failuresPerAddress: { name: 't:addr', limit: 2, windowMs: 24 * 3600_000 } };
    const hashA = countingHash();
    const hashB = countingHash();
    const a = new ApiKeyVerifier({ db, cache, hash: hashA, limits });
    const b = new ApiKeyVerifier({ db, cache, hash: hashB, limits });
    await expect(a.verify(forgedKey(), '203.0.113.50')).rejects.toMatchObject({ code: 'invalid_api_key' });
    await expect(b.verify(forgedKey(), '203.0.113.50')).rejects.toMatchObject({ code: 'invalid_api_key' });
    await expect(a.verify(forgedKey(), '203.0.113.50')).rejects.toMatchObject({ code: 'rate_limited', status: 429 });
    await expect(b.verify(forgedKey(), '203.0.113.50')).rejects.toMatchObject({ code: 'rate_limited', status: 429 });
    expect(hashA.calls + hashB.calls).toBe(2);
  });
});
