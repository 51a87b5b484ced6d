import { randomBytes } from 'node:crypto';
import type { Vault } from '../../src/security/index.js';
import { insertOrg, migrate, openPglite, openPostgres, type Db } from '../../src/store/index.js';

/** Postgres in CI and on every dev machine (DESIGN.md); override with TEST_DATABASE_URL. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export type DbKind = 'pglite' | 'postgres';
export const DB_KINDS: DbKind[] = ['pglite', 'postgres'];

/**
 * A fresh, migrated database: PGlite in memory, or a new schema of its own on the real
 * Postgres server (dropped by `close`), so test files can run in parallel.
 */
export async function openTestDb(kind: DbKind): Promise<Db & { schema?: string }> {
  if (kind === 'pglite') {
    const db = await openPglite();
    await migrate(db);
    return db;
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const db = await openPostgres({ url: TEST_DATABASE_URL, schema, max: 4 });
  await migrate(db);
  const close = db.close.bind(db);
  return Object.assign(db, {
    schema,
    async close() {
      await db.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await close();
    },
  });
}

/** An org with its data key, created in one transaction as `userz init` does. Returns its id. */
export async function createTestOrg(db: Db, vault: Vault, name = 'acme'): Promise<string> {
  return db.transaction(async (tx) => {
    const org = await insertOrg(tx, name, 'test');
    await vault.createOrgKey(tx, org.id);
    return org.id;
  });
}
