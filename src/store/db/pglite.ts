import { mkdirSync } from 'node:fs';
import { UserzError } from '../../errors.js';
import { registerPool } from './auth-pool.js';
import type { Db, Queryable, Row } from './interface.js';
import { startPgliteThread, type PgliteThread } from './pglite-thread.js';

export interface PgliteOptions {
  /** Start from a `dumpDataDir()` tarball instead of running initdb (tests use a migrated template). */
  loadDataDir?: Blob;
}

/** The embedded Db, plus a dump of its data directory (what `PgliteOptions.loadDataDir` takes). */
export type PgliteDb = Db & { dumpDataDir(): Promise<Blob> };

/**
 * PGlite in a local directory: the embedded default. It admits one process at a time, so
 * the CLI talks to a running server instead of opening the directory itself
 * (src/cli/remote.ts). `dir: undefined` keeps everything in memory (tests). PGlite runs in
 * a worker thread (pglite-thread.ts), off the thread that serves requests.
 */
export async function openPglite(dir?: string, options: PgliteOptions = {}): Promise<PgliteDb> {
  if (dir) mkdirSync(dir, { recursive: true });
  let pg: PgliteThread;
  try {
    pg = await startPgliteThread(dir, options);
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
  const rows = async <T extends Row>(sql: string, params?: unknown[]) => (await pg.query(sql, params)).rows as T[];

  const db: PgliteDb = {
    kind: 'pglite',
    dumpDataDir: () => serialize(() => pg.dumpDataDir()),
    query: (sql, params) => serialize(() => rows(sql, params)),
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      // The transaction holds the chain from BEGIN to COMMIT, so its statements are the only ones in it.
      return serialize(async () => {
        await pg.exec('BEGIN');
        try {
          const result = await fn({ query: rows });
          await pg.exec('COMMIT');
          return result;
        } catch (e) {
          await pg.exec('ROLLBACK').catch(() => undefined);
          throw e;
        }
      });
    },
    exec: (sql) => serialize(() => pg.exec(sql)),
    ping: () => serialize(() => pg.exec('SELECT 1')),
    async close() {
      await tail;
      await pg.close();
    },
  };
  registerPool(db, (sql, params) => serialize(() => pg.query(sql, params as unknown[] | undefined)));
  return db;
}
