import fc from 'fast-check';
import { formatApiKey, issueApiKey, parseApiKey, revokeApiKey, verifyApiKey } from '../../src/security/index.js';
import { insertOrg, type Db, type Queryable, type Row } from '../../src/store/index.js';
import { DB_KINDS, openTestDb } from '../helpers/db.js';

/** Counts queries that reach the database. */
function counting(db: Queryable): Queryable & { count: number } {
  const c = {
    count: 0,
    async query<T extends Row>(sql: string, params?: unknown[]) {
      c.count++;
      return db.query<T>(sql, params);
    },
  };
  return c;
}

describe.each(DB_KINDS)('API keys on %s', (kind) => {
  let db: Db;
  let orgId: string;
  beforeAll(async () => {
    db = await openTestDb(kind);
    orgId = (await insertOrg(db, 'acme', 'test')).id;
  });
  afterAll(async () => db.close());

  it('issues a high-entropy sk_ key with a checksum, stored only as a salted hash', async () => {
    const issued = await issueApiKey(db, orgId, { actor: 'test' });
    expect(issued.key).toMatch(/^sk_[0-9A-Za-z]{12}_[0-9A-Za-z]{49}$/);
    expect(parseApiKey(issued.key)).not.toBeNull();
    const rows = await db.query('SELECT * FROM api_keys WHERE id = $1', [issued.id]);
    expect(JSON.stringify(rows)).not.toContain(issued.key.split('_')[2]!.slice(0, 43));
  });

  it('verifies the right key with one lookup by prefix', async () => {
    const issued = await issueApiKey(db, orgId, { actor: 'test' });
    const q = counting(db);
    await expect(verifyApiKey(q, issued.key)).resolves.toMatchObject({ id: issued.id, orgId });
    expect(q.count).toBe(1);
  });

  it('refuses a wrong secret under a real prefix', async () => {
    const issued = await issueApiKey(db, orgId, { actor: 'test' });
    const { prefix } = parseApiKey(issued.key)!;
    const forged = formatApiKey(prefix, 'A'.repeat(43));
    await expect(verifyApiKey(db, forged)).rejects.toMatchObject({ code: 'invalid_api_key', status: 401 });
  });

  it('refuses a revoked key', async () => {
    const issued = await issueApiKey(db, orgId, { actor: 'test' });
    expect(await revokeApiKey(db, orgId, issued.id, 'test')).toBe(true);
    await expect(verifyApiKey(db, issued.key)).rejects.toMatchObject({ code: 'invalid_api_key', status: 401 });
  });

  it('refuses malformed keys and bad checksums with a 401 before touching the database', async () => {
    const issued = await issueApiKey(db, orgId, { actor: 'test' });
    const lastChar = issued.key.at(-1) === 'a' ? 'b' : 'a';
    const q = counting(db);
    for (const bad of [undefined, '', 'sk_short', 'Bearer x', `${issued.key.slice(0, -1)}${lastChar}`, issued.key.replace('sk_', 'pk_')]) {
      await expect(verifyApiKey(q, bad)).rejects.toMatchObject({ code: 'invalid_api_key', status: 401 });
    }
    expect(q.count).toBe(0);
  });
});

describe('API key format', () => {
  it('rejects any single-character change through the checksum', () => {
    const key = formatApiKey('abcdefABCDEF', 'x'.repeat(43));
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: key.length - 1 }),
        fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'),
        (i, ch) => {
          fc.pre(key[i] !== ch && key[i] !== '_');
          expect(parseApiKey(key.slice(0, i) + ch + key.slice(i + 1))).toBeNull();
        },
      ),
    );
  });
});
