import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserzError } from '../errors.js';
import { EnvSchema, type Env } from './schema.js';
import { DEFAULT_SHED, type ShedOptions } from '../http/index.js';
import { parseBlobUrl, type S3BlobConfig } from './blob-url.js';

export { parseBlobUrl, type S3BlobConfig } from './blob-url.js';

export type ModelProviderName = 'openai' | 'anthropic';

export interface Config {
  port: number;
  host: string;
  publicUrl: string;
  dataDir: string;
  role: 'all' | 'web' | 'worker';
  trustProxy: boolean;
  /** GET /metrics: its bearer token (unset: closed) and, when set, a port of its own. */
  metrics: { token?: string; port?: number };
  logLevel: Env['LOG_LEVEL'];
  database: { kind: 'postgres'; url: string } | { kind: 'pglite'; dir: string };
  cache: { kind: 'redis'; url: string } | { kind: 'memory' };
  blobDir: string;
  /** USERZ_BLOB_URL: blobs in S3 instead of blobDir. */
  blobS3?: S3BlobConfig;
  /** Raw keyring text from USERZ_MASTER_KEY; undefined → a local key file in dataDir (embedded default only). */
  masterKeyring?: string;
  /** `slug` (GITHUB_APP_SLUG) on its own: `@<slug>` in a review asks for a follow-up; install links need it with the client. */
  github?: { appId: string; privateKey: string; webhookSecret: string; baseUrl?: string; slug?: string; install?: GitHubInstallConfig };
  /** USERZ_GITLAB_BOT_USERNAME: `@<name>` in an MR note asks for a follow-up (unset: only `/userz`). */
  gitlab: { botUsername?: string };
  slack?: { signingSecret: string; clientId?: string; clientSecret?: string; stateSecret?: string };
  discord?: { applicationId: string; publicKey: string; botToken?: string };
  /** STRIPE_WEBHOOK_SECRET: billing webhooks (billing/stripe.ts). */
  stripe?: { webhookSecret: string };
  /** Console sign-in: the better-auth secret (USERZ_AUTH_SECRET; else a local file on the embedded default) and Google OAuth. */
  auth: { secret?: string; google?: { clientId: string; clientSecret: string } };
  /** Console mail: SMTP when smtpUrl is set, else the outbox directory. */
  mail: { smtpUrl?: string; from: string };
  model?: { provider: ModelProviderName; apiKey: string; baseUrl?: string; agentModel: string; classifierModel: string };
  /** USERZ_SHARED_MODEL: orgs without their own model settings may use `model`. */
  sharedModel: boolean;
  sandbox: {
    enabled: boolean;
    image: string;
    poolSize: number;
    wallClockSeconds: number;
    memoryMb: number;
    workspaceMb: number;
    cpus: number;
    pids: number;
    /** USERZ_EGRESS_LISTS: the named host lists setup's egress may be granted (sandbox/egress). */
    egressLists: Record<string, string[]>;
  };
  /** Overload behaviour: load shedding (http/shed.ts), chat ack deadline, triage concurrency. */
  load: {
    shed: ShedOptions;
    chatAckMs: number;
    triageConcurrency: number;
  };
}

/** What install links need: set together (GITHUB_APP_SLUG, GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET; the slug alone only turns on mentions). */
export interface GitHubInstallConfig {
  slug: string;
  clientId: string;
  clientSecret: string;
  stateSecret: string;
}

/** Raised at boot; `problems` names each bad or missing variable. */
export class ConfigError extends UserzError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super('config_invalid', `Invalid configuration: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

const DEFAULT_MODELS: Record<ModelProviderName, { agent: string; classifier: string }> = {
  openai: { agent: 'gpt-4.1', classifier: 'gpt-4.1-mini' },
  anthropic: { agent: 'claude-sonnet-4-5', classifier: 'claude-haiku-4-5' },
};

/** Parse the environment once. Throws ConfigError naming every problem at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  const dataDir = resolve(e.USERZ_DATA_DIR);

  const github = readGitHub(e, problems);
  const slack = e.SLACK_SIGNING_SECRET
    ? {
        signingSecret: e.SLACK_SIGNING_SECRET,
        clientId: e.SLACK_CLIENT_ID,
        clientSecret: e.SLACK_CLIENT_SECRET,
        stateSecret: e.SLACK_STATE_SECRET,
      }
    : undefined;
  if (!slack && (e.SLACK_CLIENT_ID || e.SLACK_CLIENT_SECRET)) problems.push('SLACK_SIGNING_SECRET is required when SLACK_CLIENT_ID is set');

  let discord: Config['discord'];
  if (e.DISCORD_APPLICATION_ID || e.DISCORD_PUBLIC_KEY) {
    if (!e.DISCORD_APPLICATION_ID) problems.push('DISCORD_APPLICATION_ID is required when DISCORD_PUBLIC_KEY is set');
    if (!e.DISCORD_PUBLIC_KEY) problems.push('DISCORD_PUBLIC_KEY is required when DISCORD_APPLICATION_ID is set');
    if (e.DISCORD_APPLICATION_ID && e.DISCORD_PUBLIC_KEY) {
      discord = { applicationId: e.DISCORD_APPLICATION_ID, publicKey: e.DISCORD_PUBLIC_KEY.toLowerCase(), botToken: e.DISCORD_BOT_TOKEN };
    }
  }

  if (!!e.GOOGLE_CLIENT_ID !== !!e.GOOGLE_CLIENT_SECRET) problems.push('GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET are set together');
  const model = readModel(e, problems);
  const blobS3 = readBlobS3(e, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    port: e.PORT,
    host: e.HOST,
    publicUrl: (e.USERZ_PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, ''),
    dataDir,
    role: e.USERZ_ROLE,
    trustProxy: e.USERZ_TRUST_PROXY,
    metrics: { token: e.USERZ_METRICS_TOKEN, port: e.USERZ_METRICS_PORT },
    logLevel: e.LOG_LEVEL,
    database: e.DATABASE_URL ? { kind: 'postgres', url: e.DATABASE_URL } : { kind: 'pglite', dir: resolve(dataDir, 'pgdata') },
    cache: e.REDIS_URL ? { kind: 'redis', url: e.REDIS_URL } : { kind: 'memory' },
    blobDir: resolve(e.USERZ_BLOB_DIR ?? resolve(dataDir, 'blobs')),
    blobS3,
    masterKeyring: e.USERZ_MASTER_KEY,
    github,
    gitlab: { botUsername: e.USERZ_GITLAB_BOT_USERNAME },
    slack,
    discord,
    stripe: e.STRIPE_WEBHOOK_SECRET ? { webhookSecret: e.STRIPE_WEBHOOK_SECRET } : undefined,
    auth: {
      secret: e.USERZ_AUTH_SECRET,
      google: e.GOOGLE_CLIENT_ID && e.GOOGLE_CLIENT_SECRET ? { clientId: e.GOOGLE_CLIENT_ID, clientSecret: e.GOOGLE_CLIENT_SECRET } : undefined,
    },
    mail: { smtpUrl: e.USERZ_SMTP_URL, from: e.USERZ_MAIL_FROM ?? `Userz <userz@${new URL(e.USERZ_PUBLIC_URL ?? 'http://localhost').hostname}>` },
    model,
    sharedModel: e.USERZ_SHARED_MODEL,
    sandbox: {
      enabled: e.USERZ_SANDBOX === 'docker',
      image: e.USERZ_SANDBOX_IMAGE,
      poolSize: e.USERZ_SANDBOX_POOL_SIZE,
      wallClockSeconds: e.USERZ_SANDBOX_WALL_CLOCK_SECONDS,
      memoryMb: e.USERZ_SANDBOX_MEMORY_MB,
      workspaceMb: e.USERZ_SANDBOX_WORKSPACE_MB,
      cpus: e.USERZ_SANDBOX_CPUS,
      pids: e.USERZ_SANDBOX_PIDS,
      egressLists: e.USERZ_EGRESS_LISTS,
    },
    load: {
      shed: {
        ...DEFAULT_SHED,
        waitMs: e.USERZ_SHED_WAIT_MS,
        limits: {
          ingest: shedLimits(e.USERZ_SHED_INGEST),
          chat: shedLimits(e.USERZ_SHED_CHAT),
          webhooks: shedLimits(e.USERZ_SHED_WEBHOOKS),
          api: shedLimits(e.USERZ_SHED_API),
          console: shedLimits(e.USERZ_SHED_CONSOLE),
        },
      },
      chatAckMs: e.USERZ_CHAT_ACK_MS,
      triageConcurrency: e.USERZ_TRIAGE_CONCURRENCY,
    },
  };
}

/** Twice as many may wait as are served: a short queue absorbs a burst, a long one only adds latency. */
const shedLimits = (inFlight: number) => ({ inFlight, queue: inFlight * 2 });

function readGitHub(e: Env, problems: string[]): Config['github'] {
  const any = e.APP_ID || e.PRIVATE_KEY || e.PRIVATE_KEY_PATH;
  if (!any) return undefined;
  if (!e.APP_ID) problems.push('APP_ID is required when a GitHub App private key is set');
  let privateKey = e.PRIVATE_KEY;
  if (!privateKey && e.PRIVATE_KEY_PATH) {
    try {
      privateKey = readFileSync(e.PRIVATE_KEY_PATH, 'utf8');
    } catch {
      problems.push('PRIVATE_KEY_PATH cannot be read');
    }
  }
  if (!privateKey) {
    if (!e.PRIVATE_KEY_PATH) problems.push('PRIVATE_KEY or PRIVATE_KEY_PATH is required when APP_ID is set');
    return undefined;
  }
  // Accept the base64 form Probot documents for single-line environments.
  if (!privateKey.includes('-----BEGIN')) privateKey = Buffer.from(privateKey, 'base64').toString('utf8');
  if (!privateKey.includes('-----BEGIN')) problems.push('PRIVATE_KEY is not a PEM key (nor base64 of one)');
  if (!e.WEBHOOK_SECRET) problems.push('WEBHOOK_SECRET is required when APP_ID is set');
  const install = readGitHubInstall(e, problems);
  if (!e.APP_ID || !e.WEBHOOK_SECRET) return undefined;
  return {
    appId: e.APP_ID,
    privateKey: privateKey.replace(/\\n/g, '\n'),
    webhookSecret: e.WEBHOOK_SECRET,
    baseUrl: e.GITHUB_API_URL,
    slug: e.GITHUB_APP_SLUG,
    install,
  };
}

function readGitHubInstall(e: Env, problems: string[]): GitHubInstallConfig | undefined {
  const parts = { GITHUB_APP_SLUG: e.GITHUB_APP_SLUG, GITHUB_CLIENT_ID: e.GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET: e.GITHUB_CLIENT_SECRET };
  const missing = Object.entries(parts)
    .filter(([, v]) => !v)
    .map(([k]) => k);
  // The slug alone is a setting of its own (mentions); the OAuth client is what asks for install links.
  if (!e.GITHUB_CLIENT_ID && !e.GITHUB_CLIENT_SECRET) return undefined;
  if (missing.length > 0) {
    problems.push(`${missing.join(', ')} required for GitHub install links (set GITHUB_APP_SLUG, GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET together)`);
    return undefined;
  }
  const stateSecret = e.GITHUB_STATE_SECRET ?? e.WEBHOOK_SECRET;
  if (!stateSecret) return undefined; // WEBHOOK_SECRET's own problem is already reported
  if (e.GITHUB_STATE_SECRET && e.GITHUB_STATE_SECRET.length < 16) problems.push('GITHUB_STATE_SECRET must be at least 16 characters');
  return { slug: e.GITHUB_APP_SLUG!, clientId: e.GITHUB_CLIENT_ID!, clientSecret: e.GITHUB_CLIENT_SECRET!, stateSecret };
}

function readBlobS3(e: Env, problems: string[]): S3BlobConfig | undefined {
  if (!e.USERZ_BLOB_URL) return undefined;
  const where = parseBlobUrl(e.USERZ_BLOB_URL);
  if (!where) {
    problems.push('USERZ_BLOB_URL must be s3://bucket/prefix (a valid bucket name, a prefix of letters, digits, dots, dashes and underscores)');
    return undefined;
  }
  if (e.USERZ_BLOB_DIR) problems.push('USERZ_BLOB_DIR and USERZ_BLOB_URL are both set: choose one blob store');
  if (!!e.AWS_ACCESS_KEY_ID !== !!e.AWS_SECRET_ACCESS_KEY) problems.push('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set together');
  const region = e.AWS_REGION ?? e.AWS_DEFAULT_REGION;
  if (!region) problems.push('AWS_REGION is required with USERZ_BLOB_URL');
  return {
    ...where,
    region: region ?? '',
    endpoint: e.AWS_ENDPOINT_URL_S3 ?? e.AWS_ENDPOINT_URL,
    credentials:
      e.AWS_ACCESS_KEY_ID && e.AWS_SECRET_ACCESS_KEY
        ? { accessKeyId: e.AWS_ACCESS_KEY_ID, secretAccessKey: e.AWS_SECRET_ACCESS_KEY, sessionToken: e.AWS_SESSION_TOKEN }
        : undefined,
    kmsKeyId: e.USERZ_BLOB_KMS_KEY_ID,
  };
}

function readModel(e: Env, problems: string[]): Config['model'] {
  const provider: ModelProviderName | undefined =
    e.USERZ_MODEL_PROVIDER ?? (e.ANTHROPIC_API_KEY && !e.OPENAI_API_KEY ? 'anthropic' : e.OPENAI_API_KEY ? 'openai' : undefined);
  if (!provider) return undefined;
  const apiKey = provider === 'openai' ? e.OPENAI_API_KEY : e.ANTHROPIC_API_KEY;
  if (!apiKey) {
    problems.push(`${provider === 'openai' ? 'OPENAI_API_KEY' : 'ANTHROPIC_API_KEY'} is required when USERZ_MODEL_PROVIDER=${provider}`);
    return undefined;
  }
  return {
    provider,
    apiKey,
    baseUrl: provider === 'openai' ? e.OPENAI_BASE_URL : e.ANTHROPIC_BASE_URL,
    agentModel: e.USERZ_AGENT_MODEL ?? DEFAULT_MODELS[provider].agent,
    classifierModel: e.USERZ_CLASSIFIER_MODEL ?? DEFAULT_MODELS[provider].classifier,
  };
}

/** One line per integration for the boot log: what is configured and what is not. Never values. */
export function describeConfig(config: Config): Array<{ part: string; configured: boolean; detail: string }> {
  return [
    { part: 'database', configured: true, detail: config.database.kind === 'postgres' ? 'Postgres (DATABASE_URL)' : 'embedded PGlite' },
    { part: 'cache', configured: true, detail: config.cache.kind === 'redis' ? 'Redis (REDIS_URL)' : 'in-memory' },
    { part: 'blobs', configured: true, detail: config.blobS3 ? `S3 bucket ${config.blobS3.bucket} (USERZ_BLOB_URL)` : 'local directory' },
    {
      part: 'github',
      configured: !!config.github,
      detail: config.github
        ? `GitHub App ${config.github.appId}, ${config.github.slug ? `@${config.github.slug} mentions ask for follow-ups` : 'no mentions (GITHUB_APP_SLUG unset): /userz asks'}`
        : 'not configured: set APP_ID, PRIVATE_KEY, WEBHOOK_SECRET',
    },
    {
      part: 'gitlab',
      configured: true,
      detail: `per-project tokens (userz repos add-gitlab), ${config.gitlab.botUsername ? `@${config.gitlab.botUsername} mentions ask for follow-ups` : 'no mentions (USERZ_GITLAB_BOT_USERNAME unset): /userz asks'}`,
    },
    {
      part: 'slack',
      configured: !!config.slack,
      detail: config.slack
        ? config.slack.clientId
          ? 'signing secret and OAuth'
          : 'signing secret only, no OAuth install'
        : 'not configured: set SLACK_SIGNING_SECRET',
    },
    {
      part: 'discord',
      configured: !!config.discord,
      detail: config.discord ? `application ${config.discord.applicationId}` : 'not configured: set DISCORD_APPLICATION_ID, DISCORD_PUBLIC_KEY',
    },
    {
      part: 'model',
      configured: !!config.model,
      detail: config.model
        ? `${config.model.provider} (agent ${config.model.agentModel}, classifier ${config.model.classifierModel}), ${config.sharedModel ? 'shared with orgs that have no key of their own' : 'not shared: each org sets its own model (USERZ_SHARED_MODEL=true shares it)'}`
        : 'no server model: each org sets its own model key; reports of orgs without one wait for review',
    },
    {
      part: 'sandbox',
      configured: config.sandbox.enabled,
      detail: config.sandbox.enabled
        ? `docker+runsc, image ${config.sandbox.image}, pool ${config.sandbox.poolSize}`
        : 'off (USERZ_SANDBOX=off): no agent runs',
    },
  ];
}
