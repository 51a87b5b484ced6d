// The server under fuzz: the real app (Probot, router, intake, webhooks) on a real HTTP
// server with GitHub, Slack and Discord configured with real keys, one org with a
// widget App, an sk_ key and a GitLab project with a webhook secret.
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createApp, DEFAULT_RATE_LIMITS } from '../../src/intake/index.js';
import { issueApiKey } from '../../src/security/index.js';
import { updateAppLinks } from '../../src/store/apps.js';
import { upsertRepo } from '../../src/store/index.js';
import { startTestApp, TEST_WEBHOOK_SECRET, type TestApp } from '../helpers/app.js';
import { createTestOrg, type DbKind } from '../helpers/db.js';

export const SLACK_SECRET = 'fuzz-slack-signing-secret-0123456789';
export const SLACK_TEAM = 'T0FUZZ';
export const DISCORD_APPLICATION_ID = '900000000000000777';
export const DISCORD_GUILD = '800000000000000777';
export const GITLAB_PROJECT_ID = 4242;
export const GITLAB_SECRET = 'fuzz-gitlab-hook-secret-0001';
export const ORIGIN = 'https://shop.example';

export interface FuzzTarget {
  app: TestApp;
  url: string;
  publicKey: string;
  apiKey: string;
  appId: string;
  signSlack(body: string): Record<string, string>;
  signDiscord(body: string): Record<string, string>;
  signGitHub(body: string): string;
  close(): Promise<void>;
}

export async function openFuzzTarget(db: DbKind): Promise<FuzzTarget> {
  const discord = ed25519();
  // Every intake bucket raised, so inputs reach the parsers instead of the rate limiter.
  const rateLimits = Object.fromEntries(
    Object.entries(DEFAULT_RATE_LIMITS).map(([k, rule]) => [k, { ...rule, limit: 1_000_000 }]),
  ) as typeof DEFAULT_RATE_LIMITS;
  const app = await startTestApp({
    db,
    github: true,
    env: { SLACK_SIGNING_SECRET: SLACK_SECRET, DISCORD_APPLICATION_ID, DISCORD_PUBLIC_KEY: discord.publicKeyHex },
    intake: { rateLimits },
  });
  const store = app.deps.store.db;
  const orgId = await createTestOrg(store, app.deps.vault, 'fuzz');
  const webhookSecretId = await app.deps.vault.storeSecret(orgId, 'gitlab_webhook_secret', GITLAB_SECRET);
  const repo = await upsertRepo(store, { orgId, forge: 'gitlab', externalId: String(GITLAB_PROJECT_ID), fullName: 'fuzz/app', webhookSecretId }, 'fuzz');
  const created = await createApp(store, app.deps.vault, { orgId, name: 'Fuzz shop', origins: [ORIGIN], repoId: repo.id, actor: 'fuzz' });
  await updateAppLinks(store, orgId, created.app.id, { slackTeamId: SLACK_TEAM, discordGuildId: DISCORD_GUILD }, 'fuzz');
  const { key: apiKey } = await issueApiKey(store, orgId, { actor: 'fuzz' });
  return {
    app,
    url: app.url,
    publicKey: created.publicKey,
    apiKey,
    appId: created.app.id,
    signSlack(body) {
      const ts = String(Math.floor(Date.now() / 1000));
      // Slack: v0=HMAC-SHA256(signing secret, "v0:{timestamp}:{raw body}")
      const sig = createHmac('sha256', SLACK_SECRET).update(`v0:${ts}:${body}`).digest('hex');
      return { 'x-slack-request-timestamp': ts, 'x-slack-signature': `v0=${sig}` };
    },
    signDiscord(body) {
      const ts = String(Math.floor(Date.now() / 1000));
      // Discord: Ed25519 over timestamp + raw body.
      return { 'x-signature-ed25519': sign(null, Buffer.from(`${ts}${body}`), discord.privateKey).toString('hex'), 'x-signature-timestamp': ts };
    },
    signGitHub(body) {
      return `sha256=${createHmac('sha256', TEST_WEBHOOK_SECRET).update(body).digest('hex')}`;
    },
    close: () => app.close(),
  };
}

function ed25519(): { publicKeyHex: string; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  // The raw 32-byte key is the last 32 bytes of the SPKI DER encoding.
  return { publicKeyHex: publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex'), privateKey };
}
