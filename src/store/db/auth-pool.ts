import type pg from 'pg';
import type { Db } from './interface.js';

/**
 * A pool in the shape Kysely's PostgresDialect takes, over the store's own connection, so
 * better-auth (console sign-in) reads and writes the same database as everything else:
 * the node-postgres Pool itself, or for PGlite an adapter whose queries go through the
 * embedded Db's one-at-a-time chain. Sign-in runs without its own transactions
 * (better-auth's `transaction: false`), so a connection is just a way to send a query.
 */
export interface PoolLike {
  connect(): Promise<{
    query(sql: string, params?: readonly unknown[]): Promise<{ rows: unknown[]; rowCount: number }>;
    release(): void;
  }>;
  end(): Promise<void>;
}

type RawQuery = (sql: string, params?: readonly unknown[]) => Promise<{ rows: unknown[]; rowCount: number }>;

const POOLS = new WeakMap<Db, pg.Pool | RawQuery>();

/** Called by the two openers. */
export function registerPool(db: Db, pool: pg.Pool | RawQuery): void {
  POOLS.set(db, pool);
}

export function kyselyPool(db: Db): PoolLike {
  const pool = POOLS.get(db);
  if (!pool) throw new Error('This Db was not opened by openPostgres or openPglite');
  if (typeof pool !== 'function') return pool as unknown as PoolLike;
  return {
    connect: async () => ({ query: pool, release: () => undefined }),
    // The Db's owner closes it; better-auth ending "its" pool must not.
    end: async () => undefined,
  };
}
