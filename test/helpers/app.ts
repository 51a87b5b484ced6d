import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig, type Config } from '../../src/config/index.js';
import { startHttpServer, type RunningServer } from '../../src/http/index.js';
import { createLogger, type Logger } from '../../src/log/index.js';
import { buildPipelineDeps, createProbot, userzApp, type AppDeps } from '../../src/main.js';
import { Metrics, startMetricsServer } from '../../src/metrics/index.js';
import type { PipelineDeps } from '../../src/pipeline/index.js';
import { RateLimiter, ReplayGuard, Vault, KeyringMasterKey, generateKeyringEntry } from '../../src/security/index.js';
import { createCache, LocalBlobStore, queueStats } from '../../src/store/index.js';
import { openTestDb, TEST_REDIS_URL, type DbKind } from './db.js';

/** Captures every log line as text, to assert on what reached the log. */
export function captureLog(level = 'trace'): { log: Logger; lines: string[]; text: () => string } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { log: createLogger({ level, destination }), lines, text: () => lines.join('') };
}

export const TEST_WEBHOOK_SECRET = 'test-webhook-secret-1f0c';

export function testGitHubApp(): { appId: string; privateKey: string; publicKey: string; webhookSecret: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    appId: '123456',
    privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    webhookSecret: TEST_WEBHOOK_SECRET,
  };
}

export interface TestApp {
  url: string;
  deps: AppDeps;
  server: RunningServer;
  /** The metrics-only server, when the env sets USERZ_METRICS_PORT (use '0' for a random port). */
  metricsServer?: RunningServer;
  logText: () => string;
  close(): Promise<void>;
}

/**
 * The real app on a real HTTP server (127.0.0.1, random port) with a fresh database of
 * the given kind, a real cache (memory, or Redis with `cache: 'redis'`) and a temp blob dir.
 */
export async function startTestApp(
  opts: {
    db?: DbKind;
    cache?: 'memory' | 'redis';
    env?: Record<string, string>;
    github?: boolean | ReturnType<typeof testGitHubApp>;
    adminToken?: string;
    pipeline?: Partial<PipelineDeps>;
    intake?: AppDeps['intake'];
    /** Two apps given the same namespace (with `cache: 'redis'`) share their cache, as replicas do. */
    cacheNamespace?: string;
  } = {},
): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'userz-test-'));
  const gh = opts.github === true ? testGitHubApp() : opts.github || undefined;
  const config: Config = loadConfig({
    USERZ_DATA_DIR: dataDir,
    USERZ_MASTER_KEY: generateKeyringEntry(1),
    PORT: '0',
    USERZ_SANDBOX: 'off',
    ...(gh ? { APP_ID: gh.appId, PRIVATE_KEY: gh.privateKey, WEBHOOK_SECRET: gh.webhookSecret } : {}),
    ...opts.env,
  });
  const db = await openTestDb(opts.db ?? 'pglite');
  const cache = createCache(
    opts.cache === 'redis' ? { kind: 'redis', url: TEST_REDIS_URL } : { kind: 'memory' },
    opts.cacheNamespace ?? `test-${Math.random().toString(36).slice(2)}`,
  );
  const captured = captureLog();
  const store = {
    db,
    cache,
    blobs: new LocalBlobStore(join(dataDir, 'blobs')),
    async close() {
      await cache.close();
      await db.close();
    },
  };
  const vault = new Vault(db, new KeyringMasterKey(config.masterKeyring!));
  const metrics = new Metrics({ queueStats: () => queueStats(db) });
  const deps: AppDeps = {
    config,
    log: captured.log,
    store,
    vault,
    replayGuard: new ReplayGuard(cache),
    rateLimiter: new RateLimiter(cache),
    adminToken: opts.adminToken,
    intake: opts.intake,
    pipeline: { ...buildPipelineDeps(config, captured.log, store, vault, undefined, metrics), ...opts.pipeline },
    metrics,
  };
  const server = await startHttpServer({
    probot: createProbot(config, captured.log),
    appFn: userzApp(deps),
    log: captured.log,
    port: 0,
    host: '127.0.0.1',
    onRequest: deps.metrics.observeRequest,
  });
  const metricsServer =
    config.metrics.port === undefined
      ? undefined
      : await startMetricsServer({ metrics: deps.metrics, token: config.metrics.token, port: config.metrics.port, host: '127.0.0.1' });
  return {
    url: server.url,
    deps,
    server,
    metricsServer,
    logText: captured.text,
    async close() {
      await server.close();
      await metricsServer?.close();
      await deps.store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
