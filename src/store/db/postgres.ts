import pg from 'pg';
import { UserzError } from '../../errors.js';
import { registerPool } from './auth-pool.js';
import type { Db, Queryable, Row } from './interface.js';

// Postgres BIGINT (count(*), bigserial) comes back as string by default; ids that fit are
// ordinary numbers in Userz, so parse them.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));

export interface PostgresOptions {
  url: string;
  /** Optional schema for isolation (tests); created if missing and put first on search_path. */
  schema?: string;
  max?: number;
}

export async function openPostgres(opts: PostgresOptions): Promise<Db> {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: 5_000,
    ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
  });
  // An idle client erroring (server restart) must not crash the process; /readyz reports it.
  pool.on('error', () => undefined);
  try {
    if (opts.schema) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(opts.schema)}`);
    else await pool.query('SELECT 1');
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new UserzError('db_unreachable', `Cannot connect to Postgres at ${redactUrl(opts.url)}: ${(e as Error).message}`, { cause: e });
  }

  const db: Db = {
    kind: 'postgres',
    async query<T extends Row>(sql: string, params?: unknown[]) {
      const r = await pool.query(sql, params as unknown[] | undefined);
      return r.rows as T[];
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const tx: Queryable = {
          async query<R extends Row>(sql: string, params?: unknown[]) {
            return (await client.query(sql, params as unknown[] | undefined)).rows as R[];
          },
        };
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        client.release();
      }
    },
    async exec(sql: string) {
      await pool.query(sql);
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      await pool.end();
    },
  };
  registerPool(db, pool);
  return db;
}

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/i.test(name)) throw new UserzError('db_bad_schema', 'Schema names are letters, digits and underscores');
  return `"${name}"`;
}

/** Connection strings can carry passwords; errors show only host and database. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return '<unparseable url>';
  }
}
