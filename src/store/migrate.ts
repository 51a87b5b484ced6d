import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from './db/interface.js';

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');
// Arbitrary constant: serialises concurrent `migrate` calls from several processes.
const MIGRATION_LOCK = 7_310_442_011;

export interface MigrationResult {
  applied: string[];
  alreadyApplied: number;
}

/**
 * Applies plain-SQL migrations in file-name order, each in its own transaction, recorded
 * in schema_migrations. Idempotent: applied files are skipped. Safe to call from several
 * processes at once (advisory lock).
 */
export async function migrate(db: Db, dir = MIGRATIONS_DIR): Promise<MigrationResult> {
  await db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    name text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
  const files = readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort();
  const applied: string[] = [];
  let alreadyApplied = 0;
  for (const name of files) {
    const sql = readFileSync(join(dir, name), 'utf8');
    const did = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      const seen = await tx.query('SELECT 1 FROM schema_migrations WHERE name = $1', [name]);
      if (seen.length > 0) return false;
      for (const statement of splitStatements(sql)) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (name) VALUES ($1)', [name]);
      return true;
    });
    if (did) applied.push(name);
    else alreadyApplied++;
  }
  return { applied, alreadyApplied };
}

/**
 * Splits a migration into statements so each runs through the parameterised query path
 * (which both drivers run inside the same transaction). Migrations keep to plain DDL:
 * no dollar-quoted function bodies, semicolons only at statement ends.
 */
export function splitStatements(sql: string): string[] {
  return sql
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n')
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
