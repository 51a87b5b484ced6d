import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { PGliteOptions } from '@electric-sql/pglite';
import { UserzError } from '../../errors.js';
import type { Row } from './interface.js';

/**
 * PGlite in a worker thread of its own. Its engine is WASM that runs synchronously while it
 * works on a query, so on the request thread every query would stall every request being
 * parsed, verified or answered (a profile of intake at 1,000 req/s put 45 % of the request
 * thread in `execProtocolRawSync`). In a worker it runs beside the event loop, on another
 * core when there is one; a query costs one message each way.
 *
 * The worker's code is a string, like the runner's regex worker (src/runner/search-tools.ts):
 * it then runs the same from the TypeScript sources (tsx, Jest) and from the compiled lib/,
 * and it needs nothing but PGlite, loaded by the path resolved here.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { PGlite } = require(workerData.pglite);
// What a database error carries that callers read (the SQLSTATE code above all); an Error's
// own fields do not survive the copy to the other thread. The query's parameters are not sent.
const FIELDS = ['code', 'detail', 'hint', 'severity', 'constraint', 'table', 'column', 'schema', 'routine', 'position', 'where'];
const failure = (e) => {
  const error = { message: String((e && e.message) || e) };
  for (const k of FIELDS) if (e && (typeof e[k] === 'string' || typeof e[k] === 'number')) error[k] = e[k];
  return error;
};
PGlite.create(workerData.dir, workerData.options).then(
  (pg) => {
    parentPort.on('message', async ({ id, op, sql, params }) => {
      try {
        if (op === 'query') {
          const r = await pg.query(sql, params);
          parentPort.postMessage({ id, rows: r.rows, rowCount: r.affectedRows ?? r.rows.length });
        } else if (op === 'exec') {
          await pg.exec(sql);
          parentPort.postMessage({ id });
        } else if (op === 'dump') {
          parentPort.postMessage({ id, blob: await pg.dumpDataDir('none') });
        } else if (op === 'close') {
          await pg.close();
          parentPort.postMessage({ id });
          parentPort.close();
        }
      } catch (e) {
        parentPort.postMessage({ id, error: failure(e) });
      }
    });
    parentPort.postMessage({ ready: true, probe: new Date(0) });
  },
  (e) => parentPort.postMessage({ ready: false, error: failure(e) }),
);
`;

type Op = { op: 'query'; sql: string; params?: unknown[] } | { op: 'exec'; sql: string } | { op: 'dump' } | { op: 'close' };
interface Reply {
  id: number;
  rows?: Row[];
  rowCount?: number;
  blob?: Blob;
  error?: { message: string } & Record<string, unknown>;
}

/**
 * A value as this realm builds it. The message port builds what it receives in Node's main
 * realm; code running in another one (Jest runs tests in a vm context) would find that a
 * timestamp is not `instanceof Date` there. Used only when the probe at start-up says so.
 */
function local(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(local);
  const tag = Object.prototype.toString.call(value);
  if (tag === '[object Date]') return new Date((value as Date).getTime());
  if (tag === '[object Uint8Array]') return new Uint8Array(value as Uint8Array);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, local(v)]));
}

/** An Error with the fields the worker sent, as the in-thread engine would have thrown it. */
function rebuilt(error: NonNullable<Reply['error']>): Error {
  return Object.assign(new Error(error.message), error);
}

/** The calls the embedded Db makes, answered by PGlite in its worker. */
export interface PgliteThread {
  query(sql: string, params?: unknown[]): Promise<{ rows: Row[]; rowCount: number }>;
  exec(sql: string): Promise<void>;
  dumpDataDir(): Promise<Blob>;
  /** Closes PGlite (its data directory is flushed) and ends the worker. */
  close(): Promise<void>;
}

export async function startPgliteThread(dir: string | undefined, options: Pick<PGliteOptions, 'loadDataDir'>): Promise<PgliteThread> {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    // None of the parent's flags: the worker needs no TypeScript loader, and `--input-type=module`
    // would make this CommonJS source an ES module.
    execArgv: [],
    workerData: { pglite: createRequire(import.meta.url).resolve('@electric-sql/pglite'), dir, options },
  });
  const pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let broken: Error | undefined;

  // The worker holds the process open only while a call waits on it: a Db its owner forgot to
  // close does not keep a CLI command (or a test worker) alive, and a call in flight is never cut off.
  const fail = (e: Error) => {
    broken ??= new UserzError('db_unreachable', `The embedded database stopped: ${e.message}`, { cause: e });
    for (const call of pending.values()) call.reject(broken);
    pending.clear();
    worker.unref();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`its thread exited (code ${code})`)));

  const foreignRealm = await new Promise<boolean>((resolve, reject) => {
    worker.once('message', (m: { ready: boolean; probe?: unknown; error?: Reply['error'] }) =>
      m.ready ? resolve(!(m.probe instanceof Date)) : reject(rebuilt(m.error!)),
    );
    worker.once('error', reject);
  }).catch(async (e: Error) => {
    await worker.terminate();
    throw e;
  });
  worker.on('message', (reply: Reply) => {
    const call = pending.get(reply.id);
    if (!call) return;
    pending.delete(reply.id);
    if (pending.size === 0) worker.unref();
    if (reply.error) call.reject(rebuilt(reply.error));
    else call.resolve(reply);
  });
  worker.unref();

  const call = (op: Op): Promise<Reply> => {
    if (broken) return Promise.reject(broken);
    const id = ++nextId;
    if (pending.size === 0) worker.ref();
    return new Promise<Reply>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      try {
        worker.postMessage({ id, ...op });
      } catch (e) {
        // A parameter that cannot be copied to the worker (a function, a symbol).
        pending.delete(id);
        if (pending.size === 0) worker.unref();
        reject(e as Error);
      }
    });
  };

  return {
    async query(sql, params) {
      const r = await call({ op: 'query', sql, params });
      return { rows: foreignRealm ? (local(r.rows) as Row[]) : r.rows!, rowCount: r.rowCount! };
    },
    async exec(sql) {
      await call({ op: 'exec', sql });
    },
    async dumpDataDir() {
      return (await call({ op: 'dump' })).blob!;
    },
    async close() {
      if (broken) return;
      await call({ op: 'close' });
      await worker.terminate();
    },
  };
}
