/**
 * The composition root. The default export is a Probot app function (so `probot run`
 * works too); `userz start` (src/cli/start.ts) builds the same dependencies once and hosts
 * the app in one HTTP server. Every module receives what it needs from here and never
 * reads process.env or opens its own connections.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Probot, type ApplicationFunction } from 'probot';
import { loadConfig, type Config } from './config/index.js';
import { UserzError } from './errors.js';
import { registerInstallationEvents } from './forge/github/installations.js';
import { Router, registerAdminRoutes, registerHealthRoutes } from './http/index.js';
import { createLogger, type Logger } from './log/index.js';
import { runOperation, type OpsDeps } from './ops/index.js';
import { KeyringMasterKey, loadOrCreateLocalKeyring, RateLimiter, ReplayGuard, Vault } from './security/index.js';
import { openStore, type Store } from './store/index.js';

export interface AppDeps {
  config: Config;
  log: Logger;
  store: Store;
  vault: Vault;
  replayGuard: ReplayGuard;
  rateLimiter: RateLimiter;
  /** Set when the master keyring is the embedded default's local file. */
  localKeyringFile?: string;
  /** Bearer token for the CLI's admin endpoint; absent disables the endpoint. */
  adminToken?: string;
}

/** Opens everything the app needs. Throws a UserzError with a clear message on failure. */
export async function createDeps(config: Config, log: Logger, opts: { adminToken?: string } = {}): Promise<AppDeps> {
  const { masterKey, localKeyringFile } = openMasterKey(config);
  const store = await openStore(config);
  return {
    config,
    log,
    store,
    vault: new Vault(store.db, masterKey),
    replayGuard: new ReplayGuard(store.cache),
    rateLimiter: new RateLimiter(store.cache),
    localKeyringFile,
    adminToken: opts.adminToken,
  };
}

function openMasterKey(config: Config): { masterKey: KeyringMasterKey; localKeyringFile?: string } {
  if (config.masterKeyring) return { masterKey: new KeyringMasterKey(config.masterKeyring) };
  if (config.database.kind === 'postgres') {
    throw new UserzError('config_invalid', 'USERZ_MASTER_KEY is required with DATABASE_URL (generate one with `userz keys generate`)');
  }
  const localKeyringFile = join(config.dataDir, 'master.keys');
  return { masterKey: new KeyringMasterKey(loadOrCreateLocalKeyring(localKeyringFile)), localKeyringFile };
}

export function opsDeps(deps: AppDeps): OpsDeps {
  return { db: deps.store.db, vault: deps.vault, localKeyringFile: deps.localKeyringFile };
}

/** The Probot app: GitHub events through `app.on`, every other route through addHandler. */
export function userzApp(deps: AppDeps): ApplicationFunction {
  return (app, { addHandler }) => {
    const router = new Router(deps.log);
    registerHealthRoutes(router, [
      { name: 'database', required: true, check: () => deps.store.db.ping() },
      { name: 'cache', required: true, check: () => deps.store.cache.ping() },
      { name: 'blobs', required: true, check: () => deps.store.blobs.ping() },
    ]);
    if (deps.adminToken) {
      registerAdminRoutes(router, { token: deps.adminToken, run: (name, input) => runOperation(opsDeps(deps), name, input) });
    }
    registerInstallationEvents(app, { db: deps.store.db, log: deps.log, baseUrl: deps.config.github?.baseUrl });
    addHandler(router.handle);
  };
}

/**
 * The Probot instance. Without a configured GitHub App, Probot still needs credentials
 * to construct: it gets a placeholder token that is never used, and a random webhook
 * secret, so every GitHub delivery fails its signature check instead of being accepted
 * under Probot's well-known development secret.
 */
export function createProbot(config: Config, log: Logger): Probot {
  const common = { log: log.child({ name: 'probot' }), baseUrl: config.github?.baseUrl };
  if (config.github) {
    return new Probot({ ...common, appId: config.github.appId, privateKey: config.github.privateKey, secret: config.github.webhookSecret });
  }
  return new Probot({ ...common, githubToken: 'github-app-not-configured', secret: randomBytes(32).toString('hex') });
}

/** Entry point for `probot run lib/main.js`: the same app from the process environment. */
export default async function probotEntry(app: Probot, options: Parameters<ApplicationFunction>[1]): Promise<void> {
  const config = loadConfig();
  const deps = await createDeps(config, createLogger({ level: config.logLevel }));
  await userzApp(deps)(app, options);
}
