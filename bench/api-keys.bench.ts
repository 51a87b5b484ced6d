/**
 * `sk_` key verification under a forged-key flood: a legitimate caller's p50 while 200
 * connections send well-formed keys with wrong secrets, against its p50 on an idle server,
 * measured in the same run. Floods: from one address, and from a fresh address per request
 * (behind a trusted proxy), which no per-address limit stops, so the hash gate is what
 * holds. For contrast, the same floods against a verifier with no limits, no gate and no
 * cache: every call pays scrypt, as before the fix. Server, flood and the measured caller
 * run in three processes (on a 2-core machine they still share the CPU).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { Router } from '../src/http/index.js';
import { createApp, registerIntakeRoutes } from '../src/intake/index.js';
import { ApiKeyVerifier, generateKeyringEntry, issueApiKey, KeyringMasterKey, Vault } from '../src/security/index.js';
import { createCache, LocalBlobStore, migrate, openPglite } from '../src/store/index.js';
import { ms, summarize } from './stats.js';
import { createTestOrg, openTestDb } from '../test/helpers/db.js';
import { printBench, quick, scale } from './bench-line.js';
import { askChild } from './child-ask.js';
import type { FloodStart } from './api-keys-flood.js';

/** --quick: 1 s phases after a 0.5 s settle (full: 5 s after 1 s), the same phases and figures. */
const SECONDS = scale(5, 1);
const FLOOD_SETTLE_MS = scale(1000, 500);
const FLOOD_CONNECTIONS = 200;
/** Forged keys offered per second: the review's 200, and five times that (--quick: the 200 only, same code paths). */
const FLOOD_RATES = scale([200, 1000], [200]);
const HUGE = { limit: 1_000_000_000, windowMs: 60_000 };

interface ServerInfo {
  protectedUrl: string;
  unprotectedUrl: string;
  key: string;
  appId: string;
}

async function listen(router: Router): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    void router.handle(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Child process: the App API twice on one database, with today's verifier and with an unguarded one. */
async function serve(): Promise<void> {
  const log = pino({ level: 'silent' });
  // --quick: from the tests' migrated PGlite template (test/helpers/db.ts), skipping the
  // seconds of WASM initdb; the full run keeps a database of its own making.
  const db = quick ? await openTestDb('pglite') : await openPglite();
  await migrate(db);
  const cache = createCache({ kind: 'memory' }, 'bench-keys');
  const vault = new Vault(db, new KeyringMasterKey(generateKeyringEntry(1)));
  const orgId = await createTestOrg(db, vault, 'Bench');
  const issued = await issueApiKey(db, orgId, { actor: 'bench' });
  const app = await createApp(db, vault, { orgId, name: 'Bench', origins: [], actor: 'bench' });
  // The App API stores no blobs; the directory exists only because the deps want a store.
  const blobDir = mkdtempSync(join(tmpdir(), 'userz-bench-keys-'));
  process.on('exit', () => rmSync(blobDir, { recursive: true, force: true }));
  const base = { db, cache, blobs: new LocalBlobStore(blobDir), vault, log, config: { publicUrl: 'http://127.0.0.1' }, trustProxy: true };
  const mount = async (apiKeys: ApiKeyVerifier) => {
    const router = new Router(log);
    registerIntakeRoutes(router, { ...base, apiKeys });
    return (await listen(router)).url;
  };
  const protectedUrl = await mount(new ApiKeyVerifier({ db, cache }));
  // What main had before: scrypt for every well-formed key, nothing in front, nothing remembered.
  const unguarded = new ApiKeyVerifier({
    db,
    cache,
    limits: { failuresPerAddress: { name: 'u:addr', ...HUGE }, failuresPerPrefix: { name: 'u:prefix', ...HUGE } },
    maxConcurrentHashes: 1_000_000,
    maxWaitingHashes: 1_000_000,
    verifiedTtlMs: 0,
  });
  const unprotectedUrl = await mount(unguarded);
  process.send!({ ready: { protectedUrl, unprotectedUrl, key: issued.key, appId: app.app.id } satisfies ServerInfo });
}

if (process.env.USERZ_BENCH_ROLE === 'api-keys-server') void serve();

function start<T>(file: string, role: string, readyKey: string): Promise<{ child: ChildProcess; ready: T }> {
  const child = fork(file, [], { env: { ...process.env, USERZ_BENCH_ROLE: role }, execArgv: process.execArgv });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.on('message', (m: Record<string, unknown>) => m[readyKey] !== undefined && resolve({ child, ready: m[readyKey] as T }));
  });
}

/** Sends msg to child and resolves with the first answer carrying key. */
/** The legitimate caller: sequential GETs with the real key for SECONDS; every answer must be its 404 (key accepted). */
async function legitimateCalls(url: string, key: string, appId: string): Promise<{ p50: number; p95: number; count: number; refused: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const samples: number[] = [];
  let refused = 0;
  const until = performance.now() + SECONDS * 1000;
  while (performance.now() < until) {
    const t0 = performance.now();
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${url}/api/v1/apps/${appId}_missing`, { agent, headers: { authorization: `Bearer ${key}` } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    samples.push(performance.now() - t0);
    if (status !== 404) refused++;
  }
  agent.destroy();
  const s = summarize(samples);
  return { p50: s.p50, p95: s.p95, count: samples.length, refused };
}

async function duringFlood(flooder: ChildProcess, url: string, manyAddresses: boolean, rate: number, info: ServerInfo) {
  await askChild(flooder, { start: { url, connections: FLOOD_CONNECTIONS, manyAddresses, rate } satisfies FloodStart }, 'flooding');
  // Let the flood reach its steady state before measuring.
  await new Promise((r) => setTimeout(r, FLOOD_SETTLE_MS));
  const result = await legitimateCalls(url, info.key, info.appId);
  const statuses = await askChild<Record<string, number>>(flooder, { stop: true }, 'statuses');
  return { ...result, statuses };
}

export default async function (): Promise<void> {
  const [{ child: server, ready: info }, { child: flooder }] = await Promise.all([
    start<ServerInfo>(fileURLToPath(import.meta.url), 'api-keys-server', 'ready'),
    start<boolean>(fileURLToPath(new URL('./api-keys-flood.ts', import.meta.url)), 'api-keys-flood', 'floodReady'),
  ]);
  console.log(
    `legitimate caller: sequential GET /api/v1/apps/:id for ${SECONDS} s per phase; flood: ${FLOOD_CONNECTIONS} connections of forged sk_ keys; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`,
  );
  const line = (name: string, r: { p50: number; p95: number; count: number; refused: number; statuses?: Record<string, number> }) =>
    console.log(
      `${name.padEnd(44)} p50 ${ms(r.p50).padStart(9)}  p95 ${ms(r.p95).padStart(9)}  calls ${String(r.count).padStart(5)}  refused ${r.refused}${r.statuses ? `  flood answers ${JSON.stringify(r.statuses)}` : ''}`,
    );

  await legitimateCalls(info.protectedUrl, info.key, info.appId); // warm-up: JIT, PGlite, the key's first scrypt
  const idle = await legitimateCalls(info.protectedUrl, info.key, info.appId);
  line('protected, idle', idle);
  const ratios: Array<{ name: string; ratio: number; refused: number }> = [];
  for (const rate of FLOOD_RATES) {
    for (const many of [false, true]) {
      const name = `protected, ${rate}/s from ${many ? 'a new address each' : 'one address'}`;
      const r = await duringFlood(flooder, info.protectedUrl, many, rate, info);
      line(name, r);
      ratios.push({ name, ratio: r.p50 / idle.p50, refused: r.refused });
    }
  }
  const oldIdle = await legitimateCalls(info.unprotectedUrl, info.key, info.appId);
  line('unguarded (before the fix), idle', oldIdle);
  // --quick: a smaller flood for the contrast; at 200/s the scrypt backlog alone outlasts a quick run.
  const oldRate = scale(FLOOD_RATES[0]!, 20);
  const oldFlood = await duringFlood(flooder, info.unprotectedUrl, true, oldRate, info);
  line(`unguarded (before the fix), ${oldRate}/s`, oldFlood);

  const headline = ratios.filter((r) => r.name.includes(`${FLOOD_RATES[0]}/s`));
  const worst = Math.max(...headline.map((r) => r.ratio));
  const refused = headline.reduce((n, r) => n + r.refused, 0);
  for (const r of ratios) console.log(`  ${r.name}: ${r.ratio.toFixed(2)}x idle`);
  console.log(
    `legitimate p50 during a ${FLOOD_RATES[0]}/s forged-key flood vs idle: ${worst.toFixed(2)}x (worst of one address / many addresses); before the fix ${(oldFlood.p50 / oldIdle.p50).toFixed(1)}x (at ${oldRate}/s)`,
  );
  console.log(`goal within 2x of idle at ${FLOOD_RATES[0]}/s: ${worst <= 2 && refused === 0 ? 'met' : 'NOT met'} (legitimate calls refused: ${refused})`);
  for (const r of ratios) {
    const headlineRate = r.name.includes(`${FLOOD_RATES[0]}/s`);
    const name = `api-keys/${r.name.replace('protected, ', '').replace(/[^a-z0-9]+/gi, '-')}`;
    printBench({
      name,
      metric: 'legit_p50_ratio_to_idle',
      value: r.ratio,
      baseline: 1,
      goal: headlineRate ? 'ratio <= 2 and zero legitimate calls refused' : null,
      ...(headlineRate ? { met: r.ratio <= 2 && r.refused === 0 } : {}),
    });
  }
  printBench({ name: `api-keys/unguarded-${oldRate}-s`, metric: 'legit_p50_ms', value: oldFlood.p50, baseline: oldIdle.p50 });
  flooder.kill('SIGTERM');
  server.kill('SIGTERM');
}
