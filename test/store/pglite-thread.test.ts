// The embedded database runs PGlite in a worker thread (src/store/db/pglite-thread.ts). What
// callers relied on when it ran in-thread must survive the hop: SQLSTATE codes on errors,
// this realm's value types, transactions that hold the chain, and a process that can exit.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openPglite, type PgliteDb } from '../../src/store/db/pglite.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('PGlite in its worker thread', () => {
  let db: PgliteDb;
  beforeAll(async () => {
    db = await openPglite();
    await db.exec('CREATE TABLE t (id text PRIMARY KEY, at timestamptz, data bytea, doc jsonb)');
  });
  afterAll(() => db.close());

  it('throws database errors with their SQLSTATE code and constraint, without the parameters', async () => {
    await db.query('INSERT INTO t (id) VALUES ($1)', ['k1']);
    const e = await db.query('INSERT INTO t (id) VALUES ($1)', ['k1']).catch((x: unknown) => x as Record<string, unknown>);
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ code: '23505', constraint: 't_pkey' });
    expect(e).not.toHaveProperty('params');
  });

  it('returns timestamps, bytes and JSON as this realm builds them', async () => {
    await db.query('INSERT INTO t VALUES ($1, $2, $3, $4)', ['k2', new Date('2026-01-02T03:04:05Z'), Buffer.from([1, 2, 3]), { a: [1, { b: 'c' }] }]);
    const [row] = await db.query<{ at: Date; data: Uint8Array; doc: unknown }>('SELECT at, data, doc FROM t WHERE id = $1', ['k2']);
    expect(row!.at).toBeInstanceOf(Date);
    expect(row!.at.toISOString()).toBe('2026-01-02T03:04:05.000Z');
    expect(row!.data).toBeInstanceOf(Uint8Array);
    expect([...row!.data]).toEqual([1, 2, 3]);
    expect(row!.doc).toEqual({ a: [1, { b: 'c' }] });
  });

  it('rolls a failed transaction back and keeps other queries out of it', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const tx = db.transaction(async (q) => {
      await q.query('INSERT INTO t (id) VALUES ($1)', ['k3']);
      await held;
      await q.query('INSERT INTO t (id) VALUES ($1)', ['k1']); // duplicate: the transaction fails
    });
    const outside = db.query<{ n: number }>('SELECT count(*)::int AS n FROM t WHERE id = $1', ['k3']);
    release();
    await expect(tx).rejects.toMatchObject({ code: '23505' });
    // The outside query ran after the rollback, never between the transaction's statements.
    expect(await outside).toEqual([{ n: 0 }]);
  });

  it('leaves the event loop free while a query runs', async () => {
    let timerFired = false;
    const timer = new Promise<void>((r) => setTimeout(() => r(void (timerFired = true)), 20));
    // In-thread, the WASM would hold the loop for the whole 0.5 s and the query would settle first.
    const sleeping = db.query('SELECT pg_sleep(0.5)').then(() => timerFired);
    await timer;
    expect(await sleeping).toBe(true);
  });
});

describe('a process with an embedded database', () => {
  const run = (body: string) =>
    execFileSync(process.execPath, ['--import', './scripts/register-ts.js', '--input-type=module', '-e', body], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('exits when its work is done even if the database was never closed, and not before a query answers', () => {
    const out = run(`
      import { openPglite } from './src/store/index.ts';
      const db = await openPglite();
      const [row] = await db.query('SELECT 40 + 2 AS n');
      console.log('answer', row.n);
    `);
    expect(out).toContain('answer 42');
  });
});
