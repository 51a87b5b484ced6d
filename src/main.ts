/**
 * The composition root. The default export is a Probot app function (so `probot run`
 * works too); `userz start` (src/cli/start.ts) builds the same dependencies once and hosts
 * the app in one HTTP server. Every module receives what it needs from here and never
 * reads process.env or opens its own connections.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Probot, type ApplicationFunction } from 'probot';
import { createApiRoutes, registerApiRoutes } from './api/index.js';
import { OrgModelResolver, registerBillingRoutes, runCapsOf } from './billing/index.js';
import { loadConfig, type Config } from './config/index.js';
import {
  createConsoleAuth,
  registerAdminPages,
  registerAuthPages,
  registerConsolePages,
  registerMembersPages,
  type ConsoleAuthService,
} from './console/index.js';
import { UserzError } from './errors.js';
import { DEFAULT_RUN_BUDGET } from './broker/index.js';
import { errorMessage } from './errors.js';
import { GITLAB_OPS, registerGitHubInstallRoutes, registerGitLabApiRoutes, registerGitHubWebhookRoute, registerInstallationEvents } from './forge/index.js';
import { Router, registerAdminRoutes, registerHealthRoutes, type ReadinessCheck } from './http/index.js';
import { createNotifier, forgetErasedCacheEntries, INTAKE_OPS, registerIntakeRoutes, type IntakeDeps } from './intake/index.js';
import { LIFECYCLE_OPS, registerEraseRoute, registerRetentionRoutes } from './lifecycle/index.js';
import { createMailer } from './mail/index.js';
import { createLogger, type Logger } from './log/index.js';
import { Metrics, registerMetricsRoute } from './metrics/index.js';
import { runOperation, type OpsDeps } from './ops/index.js';
import {
  createSetupEgress,
  forgeFor,
  registerGitHubReviewEvents,
  registerGitLabWebhookRoute,
  registerReviewRoutes,
  type PipelineDeps,
} from './pipeline/index.js';
import { DockerRunscDriver, type SandboxDriver } from './sandbox/index.js';
import { ApiKeyVerifier, KeyringMasterKey, loadOrCreateLocalKeyring, RateLimiter, ReplayGuard, Vault } from './security/index.js';
import { openStore, queueStats, type Store } from './store/index.js';
import { registerWebhookRoutes } from './webhooks/index.js';
import { registerStripeWebhookRoute } from './billing/index.js';

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
  /** Intake settings that differ from the defaults (benchmarks raise the rate limits). */
  intake?: Pick<IntakeDeps, 'rateLimits' | 'apiKeyLimits'>;
  /** Everything the pipeline (triage, runs, notifications) needs. */
  pipeline: PipelineDeps;
  sandbox?: SandboxDriver;
  /** The process's Prometheus registry (GET /metrics). */
  metrics: Metrics;
  /** Console sign-in; made by userzApp from the rest when absent. */
  consoleAuth?: ConsoleAuthService;
}

/** Opens everything the app needs. Throws a UserzError with a clear message on failure. */
export async function createDeps(config: Config, log: Logger, opts: { adminToken?: string; withSandbox?: boolean } = {}): Promise<AppDeps> {
  const { masterKey, localKeyringFile } = openMasterKey(config);
  const store = await openStore(config);
  const vault = new Vault(store.db, masterKey);
  const sandbox = opts.withSandbox ? await openSandbox(config, log) : undefined;
  const metrics = new Metrics({
    queueStats: () => queueStats(store.db),
    poolSize: sandbox instanceof DockerRunscDriver ? () => sandbox.warmCount : undefined,
  });
  return {
    config,
    log,
    store,
    vault,
    replayGuard: new ReplayGuard(store.cache),
    rateLimiter: new RateLimiter(store.cache),
    localKeyringFile,
    adminToken: opts.adminToken,
    sandbox,
    pipeline: buildPipelineDeps(config, log, store, vault, sandbox, metrics),
    metrics,
  };
}

/** The sandbox driver, when enabled and the engine answers; otherwise runs end `sandbox_disabled`. */
async function openSandbox(config: Config, log: Logger): Promise<SandboxDriver | undefined> {
  if (!config.sandbox.enabled) return undefined;
  try {
    return await DockerRunscDriver.open({
      image: config.sandbox.image,
      poolSize: config.sandbox.poolSize,
      workspaceRoot: join(config.dataDir, 'sandboxes'),
      limits: {
        memoryBytes: config.sandbox.memoryMb * 1024 * 1024,
        cpus: config.sandbox.cpus,
        pids: config.sandbox.pids,
        workspaceBytes: config.sandbox.workspaceMb * 1024 * 1024,
        wallClockMs: config.sandbox.wallClockSeconds * 1000,
      },
      log: log.child({ name: 'sandbox' }),
    });
  } catch (e) {
    log.warn({ err: errorMessage(e) }, 'Sandbox engine unavailable: agent runs will fail until it is fixed (see userz doctor)');
    return undefined;
  }
}

export function buildPipelineDeps(config: Config, log: Logger, store: Store, vault: Vault, sandbox?: SandboxDriver, metrics?: Metrics): PipelineDeps {
  return {
    db: store.db,
    blobs: store.blobs,
    vault,
    log: log.child({ name: 'pipeline' }),
    publicUrl: config.publicUrl,
    // Each org's own model; the server's (config.model) only for orgs without one, and only with USERZ_SHARED_MODEL.
    models: new OrgModelResolver({ db: store.db, vault, shared: config.model, sharedModel: config.sharedModel }),
    sandbox,
    forgeFor: forgeFor({
      db: store.db,
      vault,
      log,
      github: config.github ? { appId: config.github.appId, privateKey: config.github.privateKey } : undefined,
    }),
    // The pipeline's Notifier port, implemented by intake: the one instance of the process.
    notifier: createNotifier({
      db: store.db,
      vault,
      log,
      config,
      // A reporter who left an email hears of the merge or close by mail too (issue 18).
      mailer: createMailer({
        smtpUrl: config.mail.smtpUrl,
        from: config.mail.from,
        outboxDir: join(config.dataDir, 'outbox'),
        log: log.child({ name: 'mail' }),
      }),
    }),
    budget: DEFAULT_RUN_BUDGET,
    batchDelayMs: 60_000,
    metrics,
    setupEgress: createSetupEgress({ db: store.db, log: log.child({ name: 'egress' }), lists: config.sandbox.egressLists }),
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
  return {
    db: deps.store.db,
    vault: deps.vault,
    localKeyringFile: deps.localKeyringFile,
    extra: { ...INTAKE_OPS, ...GITLAB_OPS, ...LIFECYCLE_OPS },
    blobs: deps.store.blobs,
    forgetErasedCache: (subjects) => forgetErasedCacheEntries(deps.store.cache, subjects),
  };
}

/** The Probot app: GitHub events through `app.on`, every other route through addHandler. */
export function userzApp(deps: AppDeps): ApplicationFunction {
  return (app, { addHandler }) => {
    const router = new Router(deps.log);
    // Console sign-in: better-auth's /api/auth/* answered before the router, the pages in it.
    const consoleAuth =
      deps.consoleAuth ?? createConsoleAuth({ db: deps.store.db, vault: deps.vault, config: deps.config, log: deps.log, rateLimiter: deps.rateLimiter });
    addHandler(consoleAuth.handle);
    registerAuthPages(router, { db: deps.store.db, auth: consoleAuth });
    registerMembersPages(router, { db: deps.store.db, auth: consoleAuth, publicUrl: deps.config.publicUrl });
    void consoleAuth.describeFirstOwner().then(
      (line) => deps.log.info(line),
      () => undefined,
    );
    const checks: ReadinessCheck[] = [
      { name: 'database', required: true, check: () => deps.store.db.ping() },
      { name: 'cache', required: true, check: () => deps.store.cache.ping() },
      { name: 'blobs', required: true, check: () => deps.store.blobs.ping() },
    ];
    if (deps.config.sandbox.enabled) {
      checks.push({
        name: 'sandbox',
        required: false,
        check: async () => {
          if (!deps.sandbox) throw new Error('engine unavailable');
        },
      });
    }
    registerHealthRoutes(router, checks);
    // With USERZ_METRICS_PORT, /metrics is served there only (cli/start.ts), not beside the public routes.
    if (deps.config.metrics.port === undefined) registerMetricsRoute(router, deps.metrics, deps.config.metrics.token);
    if (deps.adminToken) {
      registerAdminRoutes(router, { token: deps.adminToken, run: (name, input) => runOperation(opsDeps(deps), name, input) });
    }
    // One verifier per process: its success cache, hash gate and revocations are shared by every sk_ route.
    const apiKeys = new ApiKeyVerifier({ db: deps.store.db, cache: deps.store.cache, limits: deps.intake?.apiKeyLimits });
    // Every /api/v1 route taking an sk_ key is declared on this one registry: scopes, parsing and the OpenAPI document.
    const api = createApiRoutes(router, apiKeys, deps.config.trustProxy);
    registerApiRoutes(router, api, { db: deps.store.db, apiKeys });
    registerGitLabApiRoutes(api, { db: deps.store.db, vault: deps.vault, publicUrl: deps.config.publicUrl });
    registerEraseRoute(api, {
      db: deps.store.db,
      blobs: deps.store.blobs,
      forgetCache: (subjects) => forgetErasedCacheEntries(deps.store.cache, subjects),
    });
    registerBillingRoutes(api, {
      db: deps.store.db,
      vault: deps.vault,
      shared: deps.config.model,
      sharedModel: deps.config.sharedModel,
      runCaps: runCapsOf(deps.pipeline.budget),
    });
    const intake = registerIntakeRoutes(router, {
      db: deps.store.db,
      cache: deps.store.cache,
      blobs: deps.store.blobs,
      vault: deps.vault,
      log: deps.log,
      config: deps.config,
      trustProxy: deps.config.trustProxy,
      apiKeys,
      api,
      chatAckMs: deps.config.load.chatAckMs,
      metrics: deps.metrics,
      ...deps.intake,
    });
    // The console's admin pages change Apps through the same AppAdmin as the App API.
    registerAdminPages(router, {
      auth: consoleAuth,
      forgetErasedCache: (subjects) => forgetErasedCacheEntries(deps.store.cache, subjects),
      db: deps.store.db,
      vault: deps.vault,
      blobs: deps.store.blobs,
      log: deps.log,
      publicUrl: deps.config.publicUrl,
      appAdmin: intake.appAdmin,
      apiKeys,
      github: { install: deps.config.github?.install, apiBaseUrl: deps.config.github?.baseUrl },
      billing: { shared: deps.config.model, sharedModel: deps.config.sharedModel, runCaps: runCapsOf(deps.pipeline.budget) },
    });
    registerReviewRoutes(api, deps.pipeline);
    registerRetentionRoutes(api, { db: deps.store.db, blobs: deps.store.blobs });
    registerConsolePages(router, { auth: consoleAuth, db: deps.store.db, blobs: deps.store.blobs });
    registerGitLabWebhookRoute(router, {
      db: deps.store.db,
      vault: deps.vault,
      log: deps.log,
      followUps: { forgeFor: deps.pipeline.forgeFor, publicUrl: deps.config.publicUrl },
      botUsername: deps.config.gitlab.botUsername,
    });
    registerWebhookRoutes(api, { db: deps.store.db, vault: deps.vault });
    if (deps.config.stripe) registerStripeWebhookRoute(router, { db: deps.store.db, log: deps.log, webhookSecret: deps.config.stripe.webhookSecret });
    registerInstallationEvents(app, { db: deps.store.db, log: deps.log, baseUrl: deps.config.github?.baseUrl });
    registerGitHubInstallRoutes(router, api, {
      db: deps.store.db,
      log: deps.log,
      install: deps.config.github?.install,
      apiBaseUrl: deps.config.github?.baseUrl,
    });
    registerGitHubReviewEvents(app, {
      db: deps.store.db,
      log: deps.log,
      followUps: { forgeFor: deps.pipeline.forgeFor, publicUrl: deps.config.publicUrl },
      appSlug: deps.config.github?.slug,
    });
    // Owns POST /api/github/webhooks: body cap, signature and schema before any app.on handler.
    registerGitHubWebhookRoute(router, { probot: app, log: deps.log });
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
