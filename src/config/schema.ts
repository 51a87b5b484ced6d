import { z } from 'zod';

/**
 * Every environment variable Userz reads, in one schema. Parsed once at boot
 * (loadConfig); the rest of the code receives the typed Config and never reads
 * process.env. Empty strings count as unset, so `FOO=` in a .env file means "not set".
 */
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

const EGRESS_HOST = /^(\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$/;
const EgressListsInput = z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/), z.array(z.string().toLowerCase().regex(EGRESS_HOST)).max(64));

const intWithDefault = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return def;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be an integer between ${min} and ${max}` });
        return z.NEVER;
      }
      return n;
    });

const urlString = (protocols: string[]) =>
  optionalString.refine(
    (v) => {
      if (v === undefined) return true;
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL (${protocols.join(' or ')})` },
  );

export const EnvSchema = z.object({
  PORT: intWithDefault(3000, 0, 65535),
  HOST: optionalString.transform((v) => v ?? '127.0.0.1'),
  USERZ_PUBLIC_URL: urlString(['http:', 'https:']),
  USERZ_DATA_DIR: optionalString.transform((v) => v ?? './.userz'),
  USERZ_ROLE: z
    .enum(['all', 'web', 'worker'])
    .optional()
    .transform((v) => v ?? 'all'),
  LOG_LEVEL: z
    .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
    .optional()
    .transform((v) => v ?? 'info'),

  /** Behind a trusted load balancer: take the client IP from X-Forwarded-For (per-IP rate limits). */
  USERZ_TRUST_PROXY: z
    .enum(['true', 'false', '1', '0'])
    .optional()
    .transform((v) => v === 'true' || v === '1'),

  /** Bearer token for GET /metrics; unset: /metrics answers 401 invalid_metrics_token to everyone. */
  USERZ_METRICS_TOKEN: optionalString.refine((v) => v === undefined || v.length >= 16, { message: 'must be at least 16 characters' }),
  /** Serve /metrics on this port only (on HOST), not on PORT. Unset: /metrics is on PORT. */
  USERZ_METRICS_PORT: optionalString
    .refine((v) => v === undefined || (/^\d+$/.test(v) && Number(v) <= 65535), { message: 'must be a port between 0 and 65535' })
    .transform((v) => (v === undefined ? undefined : Number(v))),

  DATABASE_URL: urlString(['postgres:', 'postgresql:']),
  REDIS_URL: urlString(['redis:', 'rediss:']),
  USERZ_BLOB_DIR: optionalString,
  /** Blobs in a private S3 bucket: `s3://bucket/prefix`; credentials and endpoint from the standard AWS_* variables. Unset: USERZ_BLOB_DIR. */
  USERZ_BLOB_URL: optionalString.refine((v) => v === undefined || v.startsWith('s3://'), { message: 'must be s3://bucket/prefix' }),
  /** A KMS key for blob encryption (aws:kms); without it blobs are encrypted with S3-managed keys (AES256). */
  USERZ_BLOB_KMS_KEY_ID: optionalString,
  AWS_REGION: optionalString,
  AWS_DEFAULT_REGION: optionalString,
  AWS_ENDPOINT_URL: urlString(['http:', 'https:']),
  AWS_ENDPOINT_URL_S3: urlString(['http:', 'https:']),
  AWS_ACCESS_KEY_ID: optionalString,
  AWS_SECRET_ACCESS_KEY: optionalString,
  AWS_SESSION_TOKEN: optionalString,
  /** Keyring "VERSION:BASE64KEY[,VERSION:BASE64KEY…]", newest first. See security/master-key.ts. */
  USERZ_MASTER_KEY: optionalString,

  APP_ID: optionalString.refine((v) => v === undefined || /^\d+$/.test(v), { message: 'must be a numeric GitHub App id' }),
  PRIVATE_KEY: optionalString,
  PRIVATE_KEY_PATH: optionalString,
  WEBHOOK_SECRET: optionalString,
  GITHUB_API_URL: urlString(['http:', 'https:']),
  /**
   * The App's slug (github.com/apps/<slug>): on its own, it turns on `@<slug>` mentions as
   * follow-up asks (forge/github/followup-events.ts). Install links (an org links its own
   * installation, forge/github/install-link.ts) need it too, with the App's OAuth client id
   * and secret (for the user authorization GitHub runs during installation) and the key that
   * signs the `state` (defaults to WEBHOOK_SECRET).
   */
  GITHUB_APP_SLUG: optionalString.refine((v) => v === undefined || /^[a-z0-9][a-z0-9-]{0,99}$/i.test(v), {
    message: 'must be the GitHub App slug (letters, digits, dashes)',
  }),
  GITHUB_CLIENT_ID: optionalString,
  GITHUB_CLIENT_SECRET: optionalString,
  GITHUB_STATE_SECRET: optionalString,
  /**
   * GitLab: the name a note mentions (`@<name>`) to ask for a follow-up, as `/userz` does
   * (forge/gitlab/followup-events.ts). Unset: mentions ask nothing. A GitLab username:
   * letters, digits, `_`, `-`, `.`; not starting with `-` or `.`, not ending with `.`.
   */
  USERZ_GITLAB_BOT_USERNAME: optionalString.refine((v) => v === undefined || /^[a-z0-9_](?:[a-z0-9_.-]{0,253}[a-z0-9_-])?$/i.test(v), {
    message: 'must be a GitLab username (letters, digits, _, - and .)',
  }),

  /** Console sign-in (better-auth): its signing secret; unset on the embedded default: made once and kept in <dataDir>/auth.secret. */
  USERZ_AUTH_SECRET: optionalString.refine((v) => v === undefined || v.length >= 32, { message: 'must be at least 32 characters' }),
  /** "Sign in with Google" (OIDC): the OAuth client of the Google Cloud project; redirect URI <public URL>/api/auth/callback/google. */
  GOOGLE_CLIENT_ID: optionalString,
  GOOGLE_CLIENT_SECRET: optionalString,
  /** Console mail (verification, password reset, invites): smtp://user:pass@host:587 or smtps://…; unset: written to <dataDir>/outbox/. */
  USERZ_SMTP_URL: urlString(['smtp:', 'smtps:']),
  USERZ_MAIL_FROM: optionalString,

  SLACK_SIGNING_SECRET: optionalString,
  SLACK_CLIENT_ID: optionalString,
  SLACK_CLIENT_SECRET: optionalString,
  SLACK_STATE_SECRET: optionalString,

  DISCORD_APPLICATION_ID: optionalString,
  DISCORD_PUBLIC_KEY: optionalString.refine((v) => v === undefined || /^[0-9a-f]{64}$/i.test(v), {
    message: 'must be the 64-hex-character Ed25519 public key from the Discord developer portal',
  }),
  DISCORD_BOT_TOKEN: optionalString,

  /** The signing secret of the Stripe webhook endpoint (`whsec_…`): POST /api/stripe/webhooks is served only with it. */
  STRIPE_WEBHOOK_SECRET: optionalString.refine((v) => v === undefined || v.startsWith('whsec_'), {
    message: "must be the endpoint's signing secret from the Stripe dashboard (whsec_…)",
  }),

  /** Orgs without a model key of their own use the server's model below (the operator pays); unset/false: their reports wait for review (model_not_configured). */
  USERZ_SHARED_MODEL: z
    .enum(['true', 'false', '1', '0'])
    .optional()
    .transform((v) => v === 'true' || v === '1'),
  USERZ_MODEL_PROVIDER: z.enum(['openai', 'anthropic']).optional(),
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: urlString(['http:', 'https:']),
  ANTHROPIC_API_KEY: optionalString,
  ANTHROPIC_BASE_URL: urlString(['http:', 'https:']),
  USERZ_AGENT_MODEL: optionalString,
  USERZ_CLASSIFIER_MODEL: optionalString,

  USERZ_SANDBOX: z
    .enum(['docker', 'off'])
    .optional()
    .transform((v) => v ?? 'docker'),
  USERZ_SANDBOX_IMAGE: optionalString.transform((v) => v ?? 'userz-sandbox:current'),
  USERZ_SANDBOX_POOL_SIZE: intWithDefault(1, 0, 32),
  USERZ_SANDBOX_WALL_CLOCK_SECONDS: intWithDefault(1200, 5, 24 * 3600),
  USERZ_SANDBOX_MEMORY_MB: intWithDefault(4096, 64, 1 << 20),
  USERZ_SANDBOX_WORKSPACE_MB: intWithDefault(8192, 16, 1 << 22),
  USERZ_SANDBOX_CPUS: intWithDefault(2, 1, 64),
  USERZ_SANDBOX_PIDS: intWithDefault(1024, 64, 1 << 16),
  // Setup's egress (issue 18): the operator's named lists, JSON {"npm": ["host", "*.host"], ...}.
  // A repository's `.userz.yml` egress.allow names lists; only hosts on a named list are reachable, only during setup.
  USERZ_EGRESS_LISTS: optionalString.transform((v, ctx) => {
    if (v === undefined) return {};
    try {
      return EgressListsInput.parse(JSON.parse(v));
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object of list names to arrays of host names (a leading *. matches subdomains)' });
      return z.NEVER;
    }
  }),

  /** Requests served at once per class before others wait, then are shed (503 + Retry-After); 0 = unbounded. See http/shed.ts. */
  USERZ_SHED_INGEST: intWithDefault(16, 0, 100_000),
  USERZ_SHED_CHAT: intWithDefault(32, 0, 100_000),
  USERZ_SHED_WEBHOOKS: intWithDefault(16, 0, 100_000),
  USERZ_SHED_API: intWithDefault(32, 0, 100_000),
  USERZ_SHED_CONSOLE: intWithDefault(16, 0, 100_000),
  /** Longest a request waits for a slot before it is shed. */
  USERZ_SHED_WAIT_MS: intWithDefault(250, 0, 10_000),
  /** Slack/Discord: how long the store may take before the "received, confirmation follows" answer (they allow 3 s in all). */
  USERZ_CHAT_ACK_MS: intWithDefault(2000, 50, 2500),
  /** Triage jobs run at once per worker process (model calls are I/O; the prefilter-only path is cheap). */
  USERZ_TRIAGE_CONCURRENCY: intWithDefault(512, 1, 4096),
});

export type Env = z.infer<typeof EnvSchema>;
