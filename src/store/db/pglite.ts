import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { UserzError } from '../../errors.js';
import { registerPool } from './auth-pool.js';
import type { Db, Queryable, Row } from './interface.js';

export interface PgliteOptions {
  /** Start from a `dumpDataDir()` tarball instead of running initdb (tests use a migrated template). */
  loadDataDir?: Blob;
}

/**
 * PGlite in a local directory: the embedded default. It admits one process at a time, so
 * the CLI talks to a running server instead of opening the directory itself
 * (src/cli/remote.ts). `dir: undefined` keeps everything in memory (tests).
 */
/** The embedded Db, plus a dump of its data directory (what `PgliteOptions.loadDataDir` takes). */
export type PgliteDb = Db & { dumpDataDir(): Promise<Blob> };

export async function openPglite(dir?: string, options: PgliteOptions = {}): Promise<PgliteDb> {
  if (dir) mkdirSync(dir, { recursive: true });
  let pg: PGlite;
  try {
    pg = dir ? await PGlite.create(dir, options) : await PGlite.create(options);
  } catch (e) {
    throw new UserzError(
      'db_unreachable',
      `Cannot open the embedded database in ${dir ?? 'memory'}: ${(e as Error).message}. Is another Userz process using it?`,
      { cause: e },
    );
  }
  // PGlite runs one query at a time; a simple promise chain keeps a transaction's
  // statements from interleaving with other callers'.
  let tail: Promise<unknown> = Promise.resolve();
  const serialize = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = tail.then(fn, fn);
    tail = next.catch(() => undefined);
    return next;
  };

  const db: PgliteDb = {
    kind: 'pglite',
    dumpDataDir: () => serialize(() => pg.dumpDataDir('none')),
    query<T extends Row>(sql: string, params?: unknown[]) {
      return serialize(async () => (await pg.query<T>(sql, params as unknown[] | undefined)).rows);
    },
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return serialize(() =>
        pg.transaction(async (t) => {
          const tx: Queryable = {
            async query<R extends Row>(sql: string, params?: unknown[]) {
              return (await t.query<R>(sql, params as unknown[] | undefined)).rows;
            },
          };
          return fn(tx);
        }),
      );
    },
    exec(sql: string) {
      return serialize(async () => {
        await pg.exec(sql);
      });
    },
    ping() {
      return serialize(async () => {
        await pg.query('SELECT 1');
      });
    },
    async close() {
      await tail;
      await pg.close();
    },
  };
  registerPool(db, (sql, params) =>
    serialize(async () => {
      const r = await pg.query(sql, params as unknown[] | undefined);
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
    }),
  );
  return db;
}
