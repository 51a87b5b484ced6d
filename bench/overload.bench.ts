/**
 * Overload and memory: widget ingest through the load shedder (http/shed.ts) on Postgres
 * and the memory cache, in a child process started with --expose-gc.
 *   1. capacity: unthrottled load for a few seconds measures what the server serves;
 *   2. normal: half of that, RSS taken after it;
 *   3. burst: 3× capacity offered; p99 of the requests that were served (2xx), share of
 *      503/429, peak RSS during the burst;
 *   4. after: idle for USERZ_BENCH_AFTER_S (60 s by default), RSS when it ends;
 *   5. steady: three runs of USERZ_BENCH_STEADY_S (60 s by default) at the normal rate,
 *      RSS and post-GC heap after each (they should plateau, not climb).
 * Goals printed at the end: served p99 < 1 s, burst RSS within 1.5× of normal and back.
 */
import { fork } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { Router } from '../src/http/index.js';
import { DEFAULT_SHED, LoadShedder, shedLoad } from '../src/http/shed.js';
import { createApp, registerIntakeRoutes } from '../src/intake/index.js';
import { generateKeyringEntry, KeyringMasterKey, Vault } from '../src/security/index.js';
import { createCache, LocalBlobStore, migrate, openPostgres } from '../src/store/index.js';
import { percentile } from './stats.js';
import { createTestOrg } from '../test/helpers/db.js';

const DATABASE_URL = process.env.USERZ_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const AFTER_S = Number(process.env.USERZ_BENCH_AFTER_S ?? 60);
const STEADY_S = Number(process.env.USERZ_BENCH_STEADY_S ?? 60);
const ORIGIN = 'https://shop.example';

type Instance = { on(event: 'response', fn: (client: unknown, status: number, bytes: number, ms: number) => void): void };
type Autocannon = (
  opts: Record<string, unknown>,
  cb: (err: unknown, result: { requests: { average: number }; '2xx': number; non2xx: number; errors: number; timeouts: number }) => void,
) => Instance;

interface Sample {
  rssMb: number;
  heapMb: number;
}

async function serve(): Promise<void> {
  const log = pino({ level: 'silent' });
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const db = await openPostgres({ url: DATABASE_URL, schema, max: 10 });
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
  const shedder = new LoadShedder(DEFAULT_SHED);
  const server: Server = createServer(
    shedLoad(shedder, log, (req, res) => {
      void router.handle(req, res).then((handled) => {
        if (!handled) res.writeHead(404).end();
      });
    }),
  );
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  let peakRss = 0;
  setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200).unref();
  const sample = (gc: boolean): Sample => {
    if (gc) (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    return { rssMb: m.rss / 2 ** 20, heapMb: m.heapUsed / 2 ** 20 };
  };
  process.send!({ ready: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, publicKey: app.publicKey } });
  process.on('message', (m: { sample?: boolean; peak?: boolean; stop?: boolean }) => {
    if (m.sample) process.send!({ sample: sample(true) });
    if (m.peak) {
      process.send!({ peak: peakRss / 2 ** 20 });
      peakRss = 0;
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

if (process.env.USERZ_BENCH_ROLE === 'overload-server') void serve();

export default async function (): Promise<void> {
  const autocannon = (await import('autocannon' as string)).default as Autocannon;
  const child = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, USERZ_BENCH_ROLE: 'overload-server' },
    execArgv: [...process.execArgv, '--expose-gc'],
  });
  const ask = <T>(msg: Record<string, boolean>, key: string) =>
    new Promise<T>((resolve) => {
      const on = (m: Record<string, unknown>) => {
        if (m[key] === undefined) return;
        child.off('message', on);
        resolve(m[key] as T);
      };
      child.on('message', on);
      child.send(msg);
    });
  const info = await new Promise<{ url: string; publicKey: string }>((resolve) =>
    child.on('message', (m: { ready?: { url: string; publicKey: string } }) => m.ready && resolve(m.ready)),
  );
  let seq = 0;
  const setupRequest = (req: Record<string, unknown>) => ({
    ...req,
    method: 'POST',
    path: '/api/v1/reports',
    body: JSON.stringify({
      text: `Checkout fails ${++seq}`,
      console: [{ level: 'error', message: 'TypeError: x is undefined' }],
      page: { url: `${ORIGIN}/cart` },
    }),
    headers: { 'content-type': 'application/json', 'x-userz-key': info.publicKey, origin: ORIGIN },
  });
  const load = (opts: { seconds: number; connections: number; rate?: number }) =>
    new Promise<{ served: number[]; statuses: Map<number, number>; reqPerSec: number; errors: number }>((resolve, reject) => {
      const served: number[] = [];
      const statuses = new Map<number, number>();
      const inst = autocannon(
        {
          url: info.url,
          connections: opts.connections,
          duration: opts.seconds,
          ...(opts.rate ? { overallRate: opts.rate } : {}),
          requests: [{ setupRequest }],
        },
        (err, r) => {
          if (err) return reject(err);
          resolve({ served, statuses, reqPerSec: r.requests.average, errors: r.errors + r.timeouts });
        },
      );
      inst.on('response', (_c, status, _b, ms) => {
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status >= 200 && status < 300) served.push(ms);
      });
    });
  const total = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  const mb = (n: number) => `${n.toFixed(0)} MB`;

  console.log(
    `widget ingest on Postgres, shed limits ${JSON.stringify(DEFAULT_SHED.limits.ingest)} wait ${DEFAULT_SHED.waitMs} ms, load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`,
  );
  await load({ seconds: 2, connections: 16, rate: 200 }); // warm-up
  const capacityRun = await load({ seconds: 5, connections: 64 });
  const capacity = Math.max(50, Math.round(capacityRun.served.length / 5));
  console.log(`capacity: ${capacity} req/s served (unthrottled, 64 connections, p99 ${percentile(capacityRun.served, 99)} ms)`);

  const normal = await load({ seconds: 10, connections: 32, rate: Math.round(capacity / 2) });
  const normalMem = await ask<Sample>({ sample: true }, 'sample');
  await ask<number>({ peak: true }, 'peak');
  console.log(
    `normal ${Math.round(capacity / 2)} req/s: p99 ${percentile(normal.served, 99)} ms, statuses ${JSON.stringify(Object.fromEntries(normal.statuses))}, RSS ${mb(normalMem.rssMb)}, heap after GC ${mb(normalMem.heapMb)}`,
  );

  const burst = await load({ seconds: 15, connections: 600, rate: capacity * 3 });
  const burstPeak = await ask<number>({ peak: true }, 'peak');
  const shed = (burst.statuses.get(503) ?? 0) + (burst.statuses.get(429) ?? 0);
  const all = total(burst.statuses);
  const servedP99 = percentile(burst.served, 99);
  console.log(
    `burst ${capacity * 3} req/s offered (3x): served ${burst.served.length} (${Math.round(burst.served.length / 15)} req/s), served p99 ${servedP99} ms, 503/429 ${shed} of ${all} (${((100 * shed) / Math.max(1, all)).toFixed(1)}%), statuses ${JSON.stringify(Object.fromEntries(burst.statuses))}, socket errors ${burst.errors}, peak RSS ${mb(burstPeak)}`,
  );

  await new Promise((r) => setTimeout(r, AFTER_S * 1000));
  const afterMem = await ask<Sample>({ sample: true }, 'sample');
  console.log(`${AFTER_S} s after the burst: RSS ${mb(afterMem.rssMb)}, heap after GC ${mb(afterMem.heapMb)}`);

  const steady: Sample[] = [];
  for (let i = 1; i <= 3; i++) {
    const r = await load({ seconds: STEADY_S, connections: 32, rate: Math.round(capacity / 2) });
    const s = await ask<Sample>({ sample: true }, 'sample');
    steady.push(s);
    console.log(
      `steady run ${i} (${STEADY_S} s at ${Math.round(capacity / 2)} req/s, p99 ${percentile(r.served, 99)} ms, statuses ${JSON.stringify(Object.fromEntries(r.statuses))}): RSS ${mb(s.rssMb)}, heap after GC ${mb(s.heapMb)}`,
    );
  }
  const peakRatio = burstPeak / normalMem.rssMb;
  const afterRatio = afterMem.rssMb / normalMem.rssMb;
  console.log(`served p99 during burst ${servedP99} ms: goal < 1000 ms ${servedP99 < 1000 ? 'met' : 'NOT met'}`);
  console.log(`burst RSS / normal ${peakRatio.toFixed(2)}x (goal <= 1.5x ${peakRatio <= 1.5 ? 'met' : 'NOT met'}); after / normal ${afterRatio.toFixed(2)}x`);
  console.log(`post-GC heap over the steady runs: ${steady.map((s) => mb(s.heapMb)).join(' → ')}; RSS ${steady.map((s) => mb(s.rssMb)).join(' → ')}`);
  await new Promise((resolve) => {
    child.once('exit', resolve);
    child.send({ stop: true });
  });
}
