import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { describeConfig, type Config } from '../config/index.js';
import { UserzError } from '../errors.js';
import { startHttpServer, type RunningServer } from '../http/index.js';
import { startMetricsServer } from '../metrics/index.js';
import type { Logger } from '../log/index.js';
import { createDeps, createProbot, userzApp, type AppDeps } from '../main.js';
import { readLiveServerFile, removeServerFile, writeServerFile } from './server-file.js';

export interface StartedUserz {
  deps: AppDeps;
  server?: RunningServer;
  /** The metrics-only server, with USERZ_METRICS_PORT. */
  metricsServer?: RunningServer;
  stop(): Promise<void>;
}

/** Hooks other modules add to a running process (the pipeline's worker loop). */
export type RoleStarter = (deps: AppDeps) => Promise<{ stop(): Promise<void> }>;

/**
 * Boots Userz: logs what is configured, opens the store (migrating it), starts the web
 * role (one HTTP server) and/or the worker role. With the embedded PGlite both roles
 * must share this one process.
 */
export async function startUserz(config: Config, log: Logger, opts: { role?: Config['role']; workers?: RoleStarter[] } = {}): Promise<StartedUserz> {
  const role = opts.role ?? config.role;
  const started = process.hrtime.bigint();
  for (const line of describeConfig(config)) {
    log.info({ part: line.part, configured: line.configured, detail: line.detail }, `${line.part}: ${line.detail}`);
  }
  if (config.database.kind === 'pglite') {
    if (role !== 'all') throw new UserzError('config_invalid', 'The embedded database runs web and worker in one process: use --role all or set DATABASE_URL');
    mkdirSync(config.dataDir, { recursive: true });
    const other = readLiveServerFile(config.dataDir);
    if (other && other.pid !== process.pid) {
      throw new UserzError('data_dir_busy', `Another Userz server (pid ${other.pid}, ${other.url}) is using ${config.dataDir}`);
    }
  }

  const adminToken = config.database.kind === 'pglite' ? randomBytes(32).toString('base64url') : undefined;
  const deps = await createDeps(config, log, { adminToken, withSandbox: role !== 'web' });
  const stoppers: Array<() => Promise<void>> = [];
  if (deps.sandbox) stoppers.push(() => deps.sandbox!.close());
  let server: RunningServer | undefined;
  let metricsServer: RunningServer | undefined;
  try {
    if (role === 'all' || role === 'web') {
      server = await startHttpServer({
        probot: createProbot(config, log),
        appFn: userzApp(deps),
        log,
        port: config.port,
        host: config.host,
        shed: config.load.shed,
        onRequest: deps.metrics.observeRequest,
      });
      stoppers.push(() => server!.close());
      if (adminToken) {
        writeServerFile(config.dataDir, { pid: process.pid, url: server.url, adminToken });
        stoppers.push(async () => removeServerFile(config.dataDir));
      }
    }
    if (config.metrics.port !== undefined) {
      metricsServer = await startMetricsServer({ metrics: deps.metrics, token: config.metrics.token, port: config.metrics.port, host: config.host });
      const metricsOnly = metricsServer;
      stoppers.push(() => metricsOnly.close());
      log.info({ url: `${metricsOnly.url}/metrics` }, 'Metrics served on their own port');
    }
    if (role === 'all' || role === 'worker') {
      for (const startWorker of opts.workers ?? []) {
        const w = await startWorker(deps);
        stoppers.push(() => w.stop());
      }
    }
  } catch (e) {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
    await deps.store.close().catch(() => undefined);
    throw e;
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  log.info({ role, url: server?.url, startupMs: Math.round(ms) }, 'Userz started');

  let stopping: Promise<void> | undefined;
  return {
    deps,
    server,
    metricsServer,
    stop: () =>
      (stopping ??= (async () => {
        for (const stop of stoppers.reverse()) await stop().catch((e) => log.warn({ err: (e as Error).message }, 'Shutdown step failed'));
        await deps.store.close();
      })()),
  };
}
