/**
 * Intake acknowledgement latency under load: widget ingest, Slack slash commands, Discord
 * interactions and a GitHub-webhook-like signed POST against the intake routes on
 * loopback, on the embedded defaults (PGlite in memory, memory cache, local blobs), each
 * phase bounded in time at a fixed offered rate. Baseline, same run: a bare Node HTTP
 * server that only verifies an HMAC signature. Rate limits are raised so they do not
 * shape the result. The servers run in a child process so autocannon (the client, in this
 * process) does not share their event loop; on a 2-core machine they still share the CPU.
 * Runs on PGlite, then on Postgres (a schema of its own on the test server, dropped after);
 * USERZ_BENCH_DB=pglite or =postgres runs one. One stand-in process (the Discord API and
 * Slack's response_url) serves both backends.
 * --quick: 1 s phases after a 1 s warm-up (full: 5 s after 2 s), and PGlite opened from the
 * tests' migrated template (test/helpers/db.ts) instead of its own initdb; same phases and figures.
 */
import { fork } from 'node:child_process';
import { createHmac, createPrivateKey, generateKeyPairSync, sign, timingSafeEqual, type KeyObject } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Router, readBody, sendJson } from '../src/http/index.js';
import { createApp, registerIntakeRoutes } from '../src/intake/index.js';
import { generateKeyringEntry, KeyringMasterKey, ReplayGuard, Vault } from '../src/security/index.js';
import { createCache, LocalBlobStore, migrate, openPglite } from '../src/store/index.js';
import { updateAppLinks } from '../src/store/apps.js';
import { createTestOrg, openTestDb } from '../test/helpers/db.js';
import { printBench, quick, scale } from './bench-line.js';
import { askChild } from './child-ask.js';

const RATE = 1000; // offered requests per second, per phase
const SECONDS = scale(5, 1);
const WARMUP_SECONDS = scale(2, 1);
const CONNECTIONS = 32;
const SLACK_SECRET = 'bench-slack-signing-secret';
const GITHUB_SECRET = 'bench-github-webhook-secret';
const ORIGIN = 'https://shop.example';

interface Result {
  latency: { p50: number; p99: number; average: number };
  requests: { average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  '2xx': number;
  statusCodeStats?: Record<string, { count: number }>;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<Result>;

async function listen(handler: RequestListener): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function hmacHex(secret: string, data: string): string {
  return createHmac('sha256', secret).update(data).digest('hex');
}

function verifyHubSignature(req: IncomingMessage, body: Buffer): boolean {
  const given = Buffer.from(String(req.headers['x-hub-signature-256'] ?? ''));
  const expected = Buffer.from(`sha256=${createHmac('sha256', GITHUB_SECRET).update(body).digest('hex')}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

let seq = 0;
const unique = () => `${process.pid}-${Date.now()}-${++seq}`;
/** A Discord snowflake (decimal, at most 20 digits) no other request of this run has. */
const snowflake = () => `${Date.now()}${String(++seq % 1_000_000).padStart(6, '0')}`;

function slackRequest(teamId: string) {
  return (req: Record<string, unknown>) => {
    const body = new URLSearchParams({
      team_id: teamId,
      channel_id: 'C1',
      user_id: `U${seq % 50}`,
      user_name: 'u',
      command: '/userz',
      text: `slow page ${unique()}`,
      api_app_id: 'A1',
      // Slack's follow-up address; the server's notifier sends it to a local stand-in.
      response_url: `https://hooks.slack.com/commands/${teamId}/${seq}/bench`,
    }).toString();
    const ts = String(Math.floor(Date.now() / 1000));
    return {
      ...req,
      method: 'POST',
      path: '/slack/events',
      body,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': ts,
        'x-slack-signature': `v0=${hmacHex(SLACK_SECRET, `v0:${ts}:${body}`)}`,
      },
    };
  };
}

function discordRequest(privateKey: KeyObject, applicationId: string, guildId: string) {
  return (req: Record<string, unknown>) => {
    const id = snowflake();
    const body = JSON.stringify({
      id,
      application_id: applicationId,
      type: 2,
      token: `tok-${id}`,
      version: 1,
      guild_id: guildId,
      channel: { id: '700000000000000001', type: 0 },
      member: { user: { id: `6000000000000${seq % 50}` } },
      data: { id: '1', name: 'userz', type: 1, options: [{ name: 'report', type: 1, options: [{ name: 'text', type: 3, value: `crash ${id}` }] }] },
    });
    const ts = String(Math.floor(Date.now() / 1000));
    return {
      ...req,
      method: 'POST',
      path: '/discord/interactions',
      body,
      headers: {
        'content-type': 'application/json',
        'x-signature-ed25519': sign(null, Buffer.from(ts + body), privateKey).toString('hex'),
        'x-signature-timestamp': ts,
      },
    };
  };
}

function widgetRequest(publicKey: string) {
  return (req: Record<string, unknown>) => {
    const body = JSON.stringify({
      text: `Checkout fails ${unique()}`,
      console: [{ level: 'error', message: 'TypeError: x is undefined', ts: Date.now() }],
      page: { url: `${ORIGIN}/cart` },
      reporter: { id: `r${seq % 50}` },
    });
    return { ...req, method: 'POST', path: '/api/v1/reports', body, headers: { 'content-type': 'application/json', 'x-userz-key': publicKey, origin: ORIGIN } };
  };
}

function githubRequest() {
  return (req: Record<string, unknown>) => {
    const body = JSON.stringify({ action: 'opened', delivery: unique(), repository: { id: 1, full_name: 'acme/shop' } });
    return {
      ...req,
      method: 'POST',
      path: '/bench/github',
      body,
      headers: {
        'content-type': 'application/json',
        'x-github-delivery': unique(),
        'x-hub-signature-256': `sha256=${createHmac('sha256', GITHUB_SECRET).update(body).digest('hex')}`,
      },
    };
  };
}

interface ServerInfo {
  intakeUrl: string;
  bareUrl: string;
  publicKey: string;
  discordPrivateKeyPem: string;
  applicationId: string;
  guildId: string;
}

/** Child process: the intake routes on the embedded defaults, and the bare baseline server. */
async function serve(): Promise<void> {
  const log = pino({ level: 'silent' });
  const db = process.env.USERZ_BENCH_INTAKE_DB === 'postgres' ? await openTestDb('postgres') : quick ? await openTestDb('pglite') : await openPglite();
  await migrate(db);
  const cache = createCache({ kind: 'memory' }, 'bench');
  const blobDir = mkdtempSync(join(tmpdir(), 'userz-bench-'));
  const vault = new Vault(db, new KeyringMasterKey(generateKeyringEntry(1)));
  const orgId = await createTestOrg(db, vault, 'Bench');
  const { publicKey: discordKey, privateKey } = generateKeyPairSync('ed25519');
  const discordPublicHex = discordKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');
  const applicationId = '900000000000000001';
  const guildId = '800000000000000001';
  // Discord and Slack follow-ups go to a local stand-in (a process of its own, so its side
  // of each follow-up is not counted as the server's), never to discord.com or hooks.slack.com.
  const fakeDiscord = { url: process.env.USERZ_BENCH_STAND_IN! };
  const notifierFetch: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    return fetch(url.hostname === 'hooks.slack.com' ? `${fakeDiscord.url}${url.pathname}` : url, init);
  };

  const router = new Router(log);
  const big = { limit: 1_000_000_000, windowMs: 60_000 };
  const routes = registerIntakeRoutes(router, {
    db,
    cache,
    blobs: new LocalBlobStore(blobDir),
    vault,
    log,
    config: { publicUrl: 'http://127.0.0.1', slack: { signingSecret: SLACK_SECRET }, discord: { applicationId, publicKey: discordPublicHex } },
    rateLimits: {
      perApp: { name: 'intake:app', ...big },
      perReporter: { name: 'intake:reporter', ...big },
      perIp: { name: 'intake:ip', ...big },
      perPublicKey: { name: 'intake:public-key', ...big },
    },
    discordApiUrl: `${fakeDiscord.url}/api`,
    notifierFetch,
  });
  // The GitHub-webhook-like route: what Probot does before handing off (signature, replay guard).
  const replay = new ReplayGuard(cache);
  router.add('POST', '/bench/github', async (req, res) => {
    const body = await readBody(req, 1024 * 1024);
    if (!verifyHubSignature(req, body)) return sendJson(res, 400, { error: 'bad signature' });
    if (!(await replay.firstSighting('github', String(req.headers['x-github-delivery'])))) return sendJson(res, 200, { duplicate: true });
    sendJson(res, 202, { accepted: true });
  });
  const app = await createApp(db, vault, { orgId, name: 'Bench', origins: [ORIGIN], actor: 'bench' });
  await updateAppLinks(db, orgId, app.app.id, { slackTeamId: 'TBENCH', discordGuildId: guildId }, 'bench');

  const intake = await listen((req, res) => {
    void router.handle(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  const bare = await listen((req, res) => {
    void readBody(req, 1024 * 1024).then((body) => {
      const ts = String(req.headers['x-slack-request-timestamp']);
      const given = Buffer.from(String(req.headers['x-slack-signature']));
      const expected = Buffer.from(`v0=${hmacHex(SLACK_SECRET, `v0:${ts}:${body.toString('utf8')}`)}`);
      const ok = given.length === expected.length && timingSafeEqual(given, expected);
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(ok ? '{"ok":true}' : '{}');
    });
  });
  const info: ServerInfo = {
    intakeUrl: intake.url,
    bareUrl: bare.url,
    publicKey: app.publicKey,
    discordPrivateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    applicationId,
    guildId,
  };
  process.send!({ ready: info });
  process.on('message', (m: { stop?: boolean; cpu?: boolean }) => {
    if (m.cpu) {
      const used = process.cpuUsage();
      process.send!({ cpuMs: (used.user + used.system) / 1000 });
      return;
    }
    if (!m.stop) return;
    void (async () => {
      await routes.idle();
      const [row] = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM reports');
      process.send!({ reports: Number(row!.n) });
      await db.close();
      rmSync(blobDir, { recursive: true, force: true });
      process.exit(0);
    })();
  });
}

/** Child process: what the Discord API and Slack's response_url answer, as fast as it can. */
async function standIn(): Promise<void> {
  const { url } = await listen((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  process.send!({ standIn: url });
}

if (process.env.USERZ_BENCH_ROLE === 'intake-server') void serve();
if (process.env.USERZ_BENCH_ROLE === 'intake-stand-in') void standIn();

type Backend = 'pglite' | 'postgres';

export default async function (): Promise<void> {
  const wanted = process.env.USERZ_BENCH_DB;
  const backends: Backend[] = wanted === 'pglite' || wanted === 'postgres' ? [wanted] : ['pglite', 'postgres'];
  const standInChild = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, USERZ_BENCH_ROLE: 'intake-stand-in' }, execArgv: process.execArgv });
  try {
    const standInUrl = await new Promise<string>((resolve, reject) => {
      standInChild.once('error', reject);
      standInChild.on('message', (m: { standIn?: string }) => m.standIn && resolve(m.standIn));
    });
    for (const backend of backends) {
      console.log(`\n### intake on ${backend}`);
      await benchBackend(backend, standInUrl);
    }
  } finally {
    standInChild.kill('SIGTERM');
  }
}

async function benchBackend(backend: Backend, standInUrl: string): Promise<void> {
  const autocannon = (await import('autocannon' as string)).default as Autocannon;
  const child = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, USERZ_BENCH_ROLE: 'intake-server', USERZ_BENCH_INTAKE_DB: backend, USERZ_BENCH_STAND_IN: standInUrl },
    // USERZ_BENCH_PROFILE=<dir>: the server writes a V8 CPU profile there (one per thread) when it exits.
    execArgv: [...process.execArgv, ...(process.env.USERZ_BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.USERZ_BENCH_PROFILE}`] : [])],
  });
  const info = await new Promise<ServerInfo>((resolve, reject) => {
    child.once('error', reject);
    child.on('message', (m: { ready?: ServerInfo }) => m.ready && resolve(m.ready));
  });
  const privateKey = createPrivateKey(info.discordPrivateKeyPem);
  const { applicationId, guildId } = info;
  const intake = { url: info.intakeUrl };
  const bare = { url: info.bareUrl };
  const app = { publicKey: info.publicKey };

  // The server process's CPU time (this process's client load excluded): on a shared machine
  // the served rate and latency move with other processes, CPU per request much less.
  const serverCpuMs = () => askChild<number>(child, { cpu: true }, 'cpuMs');

  const run = async (name: string, url: string, setupRequest: (r: Record<string, unknown>) => Record<string, unknown>) => {
    const cpuBefore = await serverCpuMs();
    // The first answer that is not 2xx, so a phase that fails says why.
    let firstRefusal: string | undefined;
    const onResponse = (status: number, body: string) => {
      if ((status < 200 || status > 299) && firstRefusal === undefined) firstRefusal = `${status} ${String(body).slice(0, 200)}`;
    };
    const r = await autocannon({ url, connections: CONNECTIONS, overallRate: RATE, duration: SECONDS, requests: [{ setupRequest, onResponse }] });
    const row = {
      phase: name,
      p50: r.latency.p50,
      p99: r.latency.p99,
      reqPerSec: Math.round(r.requests.average),
      ok2xx: r['2xx'],
      non2xx: r.non2xx,
      errors: r.errors + r.timeouts,
      cpuMsPerRequest: ((await serverCpuMs()) - cpuBefore) / Math.max(1, r['2xx'] + r.non2xx),
    };
    const statuses = Object.entries(r.statusCodeStats ?? {})
      .map(([code, { count }]) => `${code}×${count}`)
      .join(' ');
    console.log(
      `${name.padEnd(22)} p50 ${String(row.p50).padStart(4)} ms  p99 ${String(row.p99).padStart(4)} ms  ${String(row.reqPerSec).padStart(5)} req/s  2xx ${row.ok2xx}  non-2xx ${row.non2xx}  errors ${row.errors}  server CPU ${row.cpuMsPerRequest.toFixed(2)} ms/req  [${statuses}]`,
    );
    if (firstRefusal !== undefined) console.log(`  first refusal: ${firstRefusal}`);
    return row;
  };

  console.log(
    `offered ${RATE} req/s for ${SECONDS} s per phase, ${CONNECTIONS} connections, ${backend} + memory cache, load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`,
  );
  // Warm-up (JIT, PGlite caches), not reported.
  const warm = [widgetRequest(app.publicKey), slackRequest('TBENCH'), discordRequest(privateKey, applicationId, guildId)];
  let w = 0;
  await autocannon({
    url: intake.url,
    connections: CONNECTIONS,
    overallRate: RATE / 2,
    duration: WARMUP_SECONDS,
    requests: [{ setupRequest: (r: Record<string, unknown>) => warm[w++ % warm.length]!(r) }],
  });
  const baseline = await run('baseline (HMAC only)', bare.url, slackRequest('TBENCH'));
  const phases = [
    await run('widget ingest', intake.url, widgetRequest(app.publicKey)),
    await run('slack /userz', intake.url, slackRequest('TBENCH')),
    await run('discord /userz report', intake.url, discordRequest(privateKey, applicationId, guildId)),
    await run('github-like webhook', intake.url, githubRequest()),
  ];
  const mixedSetups = [widgetRequest(app.publicKey), slackRequest('TBENCH'), discordRequest(privateKey, applicationId, guildId), githubRequest()];
  let turn = 0;
  phases.push(await run('mixed (round robin)', intake.url, (r) => mixedSetups[turn++ % mixedSetups.length]!(r)));

  const worstP99 = Math.max(...phases.map((p) => p.p99));
  const non2xx = phases.reduce((n, p) => n + p.non2xx + p.errors, 0);
  console.log(`worst intake p99 ${worstP99} ms vs baseline p99 ${baseline.p99} ms: ratio ${(worstP99 / Math.max(1, baseline.p99)).toFixed(1)}x`);
  const worstServed = Math.min(...phases.map((p) => p.ok2xx / (RATE * SECONDS)));
  const met = worstServed >= 0.97 && non2xx === 0 && worstP99 <= 1.5 * baseline.p99;
  console.log(
    `goal at ${RATE} req/s: >= 97% served (worst ${(100 * worstServed).toFixed(0)}%), zero non-2xx (${non2xx}), p99 <= 1.5x baseline: ${met ? 'met' : 'NOT met'}`,
  );
  const stored = await askChild<number>(child, { stop: true }, 'reports');
  if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve)); // a profile is written on exit
  console.log(`reports stored: ${stored}`);
  const offered = RATE * SECONDS;
  printBench({ name: `intake/${backend}/baseline-hmac`, metric: 'p99_ms', value: baseline.p99 });
  for (const p of phases) {
    const name = `intake/${backend}/${p.phase.replace(/[^a-z0-9]+/gi, '-').replace(/-+$/, '')}`;
    printBench({ name, metric: 'served_fraction', value: p.ok2xx / offered, goal: 'value >= 0.97' });
    printBench({ name, metric: 'p99_ms', value: p.p99, baseline: baseline.p99, goal: 'ratio <= 1.5' });
    printBench({ name, metric: 'non2xx_and_errors', value: p.non2xx + p.errors, goal: 'value == 0' });
    printBench({ name, metric: 'server_cpu_ms_per_request', value: p.cpuMsPerRequest, baseline: baseline.cpuMsPerRequest });
  }
}
