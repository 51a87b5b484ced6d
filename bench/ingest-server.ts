/**
 * The server the overload and memory benches load: widget ingest through the load shedder
 * (http/shed.ts) on Postgres and the memory cache, in a child process started with
 * --expose-gc, so the load generator (autocannon, in the parent) is not measured with it.
 * The child answers samples over IPC: RSS and the JS heap after a full GC, peak RSS and the
 * event loop's delay since the last peak.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { Router } from '../src/http/index.js';
import { DEFAULT_SHED, LoadShedder, shedLoad } from '../src/http/shed.js';
import { createApp, registerIntakeRoutes } from '../src/intake/index.js';
import { generateKeyringEntry, KeyringMasterKey, Vault } from '../src/security/index.js';
import { createCache, LocalBlobStore, migrate, openPostgres } from '../src/store/index.js';
import { createTestOrg } from '../test/helpers/db.js';
import { askChild } from './child-ask.js';

const DATABASE_URL = process.env.USERZ_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const ORIGIN = 'https://shop.example';

export interface Sample {
  rssMb: number;
  heapMb: number;
}

export interface Peak {
  rssMb: number;
  /** Event loop delay p99 since the last peak, ms. */
  loopP99Ms: number;
  /** p99 of the 2xx answers since the last peak, from the request event to the response's end, ms: the server's share of the latency the client sees. */
  serverP99Ms: number;
}

async function serve(): Promise<void> {
  const log = pino({ level: 'silent' });
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const db = await openPostgres({ url: DATABASE_URL, schema });
  await migrate(db);
  const cache = createCache({ kind: 'memory' }, 'bench');
  const blobDir = mkdtempSync(join(tmpdir(), 'userz-bench-'));
  const vault = new Vault(db, new KeyringMasterKey(generateKeyringEntry(1)));
  const orgId = await createTestOrg(db, vault, 'Bench');
  const router = new Router(log);
  const big = { limit: 1_000_000_000, windowMs: 60_000 };
  registerIntakeRoutes(router, {
    db,
    cache,
    blobs: new LocalBlobStore(blobDir),
    vault,
    log,
    config: { publicUrl: 'http://127.0.0.1' },
    rateLimits: {
      perApp: { name: 'intake:app', ...big },
      perReporter: { name: 'intake:reporter', ...big },
      perIp: { name: 'intake:ip', ...big },
      perPublicKey: { name: 'intake:public-key', ...big },
    },
  });
  const app = await createApp(db, vault, { orgId, name: 'Bench', origins: [ORIGIN], actor: 'bench' });
  // USERZ_SHED_INGEST / USERZ_SHED_WAIT_MS as the server reads them (config/index.ts), to compare settings.
  const ingest = Number(process.env.USERZ_SHED_INGEST ?? DEFAULT_SHED.limits.ingest.inFlight);
  const shedder = new LoadShedder({
    ...DEFAULT_SHED,
    waitMs: Number(process.env.USERZ_SHED_WAIT_MS ?? DEFAULT_SHED.waitMs),
    limits: { ...DEFAULT_SHED.limits, ingest: { inFlight: ingest, queue: ingest * 2 } },
  });
  const handle = shedLoad(shedder, log, (req, res) => {
    void router.handle(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  let servedMs: number[] = [];
  const server: Server = createServer((req, res) => {
    const t0 = performance.now();
    res.once('finish', () => {
      if (res.statusCode < 300) servedMs.push(performance.now() - t0);
    });
    handle(req, res);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  let peakRss = 0;
  setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 200).unref();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const sample = (): Sample => {
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    return { rssMb: m.rss / 2 ** 20, heapMb: m.heapUsed / 2 ** 20 };
  };
  process.send!({ ready: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, publicKey: app.publicKey } });
  process.on('message', (m: { sample?: boolean; peak?: boolean; stop?: boolean }) => {
    if (m.sample) process.send!({ sample: sample() });
    if (m.peak) {
      servedMs.sort((a, b) => a - b);
      const serverP99Ms = servedMs.length === 0 ? 0 : servedMs[Math.min(servedMs.length - 1, Math.ceil(0.99 * servedMs.length) - 1)]!;
      process.send!({ peak: { rssMb: peakRss / 2 ** 20, loopP99Ms: loop.percentile(99) / 1e6, serverP99Ms } satisfies Peak });
      peakRss = 0;
      servedMs = [];
      loop.reset();
    }
    if (m.stop) {
      void (async () => {
        server.closeAllConnections();
        await db.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await db.close();
        rmSync(blobDir, { recursive: true, force: true });
        process.exit(0);
      })();
    }
  });
}

if (process.env.USERZ_BENCH_ROLE === 'ingest-server') void serve();

type Instance = { on(event: 'response', fn: (client: unknown, status: number, bytes: number, ms: number) => void): void };
type Autocannon = (
  opts: Record<string, unknown>,
  cb: (err: unknown, result: { requests: { average: number }; '2xx': number; non2xx: number; errors: number; timeouts: number }) => void,
) => Instance;

export interface LoadResult {
  /** Latencies of the 2xx answers, ms. */
  served: number[];
  statuses: Map<number, number>;
  errors: number;
}

export interface IngestServer {
  sample(): Promise<Sample>;
  peak(): Promise<Peak>;
  load(opts: { seconds: number; connections: number; rate?: number }): Promise<LoadResult>;
  stop(): Promise<void>;
}

export async function startIngestServer(): Promise<IngestServer> {
  const autocannon = (await import('autocannon' as string)).default as Autocannon;
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, USERZ_BENCH_ROLE: 'ingest-server' },
    execArgv: [...process.execArgv, '--expose-gc'],
  });
  const info = await new Promise<{ url: string; publicKey: string }>((resolve) =>
    child.on('message', (m: { ready?: { url: string; publicKey: string } }) => m.ready && resolve(m.ready)),
  );
  // One request body, built once: per-request setup (a fresh body and a deep clone of the
  // request in autocannon) took a third of the load generator's CPU during bursts, on the
  // same two cores as the server, and inflated the latencies it measured.
  const request = {
    method: 'POST',
    body: JSON.stringify({
      text: 'Checkout fails when the cart is empty',
      console: [{ level: 'error', message: 'TypeError: x is undefined' }],
      page: { url: `${ORIGIN}/cart` },
    }),
    headers: { 'content-type': 'application/json', 'x-userz-key': info.publicKey, origin: ORIGIN },
  };
  return {
    sample: () => askChild<Sample>(child, { sample: true }, 'sample'),
    peak: () => askChild<Peak>(child, { peak: true }, 'peak'),
    load: (opts) =>
      new Promise<LoadResult>((resolve, reject) => {
        const served: number[] = [];
        const statuses = new Map<number, number>();
        const inst = autocannon(
          {
            url: `${info.url}/api/v1/reports`,
            connections: opts.connections,
            duration: opts.seconds,
            ...(opts.rate ? { overallRate: opts.rate } : {}),
            ...request,
          },
          (err, r) => (err ? reject(err) : resolve({ served, statuses, errors: r.errors + r.timeouts })),
        );
        inst.on('response', (_c, status, _b, ms) => {
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (status >= 200 && status < 300) served.push(ms);
        });
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.send({ stop: true });
      }),
  };
}

export const mb = (n: number): string => `${n.toFixed(0)} MB`;
export const statusText = (m: Map<number, number>): string => JSON.stringify(Object.fromEntries(m));
