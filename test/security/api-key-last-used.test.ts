// An sk_ key's "last used" (the console's key list, GET /api/v1/api-keys) is written on a
// successful verification, at most once a minute per key per process: never once per request.
import { ApiKeyVerifier, formatApiKey, issueApiKey, parseApiKey } from '../../src/security/index.js';
import { createCache, insertOrg, randomBase62, type Cache, type Db } from '../../src/store/index.js';
import { DB_KINDS, openTestDb } from '../helpers/db.js';

describe.each(DB_KINDS)('API key last use (%s)', (kind) => {
  let db: Db;
  let cache: Cache;
  let orgId: string;
  let clock: number;
  /** The db as the verifier sees it, counting the statements that write last_used_at. */
  let writes: number;
  const counted = (): Pick<Db, 'query'> => ({
    query: ((sql: string, params?: unknown[]) => {
      if (/last_used_at\s*=/.test(sql)) writes++;
      return db.query(sql, params);
    }) as Db['query'],
  });

  beforeAll(async () => {
    db = await openTestDb(kind);
    orgId = (await insertOrg(db, 'acme', 'test')).id;
  });
  afterAll(async () => db.close());
  beforeEach(() => {
    cache = createCache({ kind: 'memory' }, `t${Math.random()}`);
    clock = Date.parse('2026-06-01T12:00:00Z');
    writes = 0;
  });
  afterEach(async () => cache.close());

  const lastUsed = async (id: string): Promise<Date | null> => {
    const [row] = await db.query<{ last_used_at: Date | null }>('SELECT last_used_at FROM api_keys WHERE id = $1', [id]);
    return row!.last_used_at === null ? null : new Date(row!.last_used_at);
  };
  const OLD = new Date('2001-01-01T00:00:00Z');
  const age = (id: string) => db.query('UPDATE api_keys SET last_used_at = $2 WHERE id = $1', [id, OLD]);

  it('is empty until the key is used, then written on the first success and at most once a minute after', async () => {
    const key = await issueApiKey(db, orgId, { actor: 'test' });
    expect(await lastUsed(key.id)).toBeNull();
    const verifier = new ApiKeyVerifier({ db: counted(), cache, now: () => clock });

    await verifier.verify(key.key, '203.0.113.1');
    expect(writes).toBe(1);
    expect(await lastUsed(key.id)).not.toBeNull();

    // 100 requests within the minute: no write at all.
    await age(key.id);
    for (let i = 0; i < 100; i++) {
      clock += 500;
      await verifier.verify(key.key, '203.0.113.1');
    }
    expect(writes).toBe(1);
    expect(await lastUsed(key.id)).toEqual(OLD);

    // The minute is over: the next success writes it again.
    clock += 10_001;
    await verifier.verify(key.key, '203.0.113.1');
    expect(writes).toBe(2);
    expect((await lastUsed(key.id))!.getTime()).toBeGreaterThan(OLD.getTime());
  });

  it('is not written by a failed verification, and each key has its own minute', async () => {
    const a = await issueApiKey(db, orgId, { actor: 'test' });
    const b = await issueApiKey(db, orgId, { actor: 'test' });
    const verifier = new ApiKeyVerifier({ db: counted(), cache, now: () => clock });
    const forged = formatApiKey(parseApiKey(a.key)!.prefix, randomBase62(43));
    await expect(verifier.verify(forged, '203.0.113.2')).rejects.toMatchObject({ code: 'invalid_api_key' });
    expect(writes).toBe(0);
    expect(await lastUsed(a.id)).toBeNull();

    await verifier.verify(a.key, '203.0.113.2');
    await verifier.verify(b.key, '203.0.113.2');
    expect(writes).toBe(2);
    expect(await lastUsed(b.id)).not.toBeNull();
  });

  it('is written by each process on its own (another verifier is another process)', async () => {
    const key = await issueApiKey(db, orgId, { actor: 'test' });
    const one = new ApiKeyVerifier({ db: counted(), cache, now: () => clock });
    const two = new ApiKeyVerifier({ db: counted(), cache, now: () => clock });
    await one.verify(key.key, null);
    await age(key.id);
    await two.verify(key.key, null);
    expect(writes).toBe(2);
    expect((await lastUsed(key.id))!.getTime()).toBeGreaterThan(OLD.getTime());
  });
});
