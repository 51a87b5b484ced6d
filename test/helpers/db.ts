import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
    const db = await openPglite(undefined, { loadDataDir: await migratedPgliteTemplate() });
    await migrate(db); // a no-op on the template; keeps this path honest if it is stale
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

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MIGRATIONS = join(ROOT, 'src', 'store', 'migrations');

/**
 * PGlite's initdb costs seconds of WASM per database (tens of seconds on a loaded machine),
 * so tests start from a dump of a freshly migrated database, made once and kept in
 * .jest-cache under a hash of the migrations and PGlite's version. Each test still gets a
 * database of its own.
 */
async function migratedPgliteTemplate(): Promise<Blob> {
  const hash = createHash('sha256');
  hash.update(readFileSync(join(ROOT, 'node_modules', '@electric-sql', 'pglite', 'package.json')));
  for (const name of readdirSync(MIGRATIONS).sort()) hash.update(name).update(readFileSync(join(MIGRATIONS, name)));
  const file = join(ROOT, '.jest-cache', `pglite-template-${hash.digest('hex').slice(0, 16)}.tar`);
  try {
    return new Blob([readFileSync(file)]);
  } catch {
    const db = await openPglite();
    await migrate(db);
    const dump = await db.dumpDataDir();
    await db.close();
    const bytes = Buffer.from(await dump.arrayBuffer());
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, file); // atomic: a parallel worker reads a whole template or none
    return new Blob([bytes]);
  }
}

/** An org with its data key, created in one transaction as `userz init` does. Returns its id. */
export async function createTestOrg(db: Db, vault: Vault, name = 'acme'): Promise<string> {
  return db.transaction(async (tx) => {
    const org = await insertOrg(tx, name, 'test');
    await vault.createOrgKey(tx, org.id);
    return org.id;
  });
}
