import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { UserzError } from '../errors.js';
import { bearerToken, clientIp, parseJson, readBody, requireContentType, sendJson, type Router } from '../http/index.js';
import { ApiKeyVerifier } from '../security/index.js';
import { getApp, updateAppLinks, type AppLinks } from '../store/index.js';
import type { AppDirectory } from './app-directory.js';
import { createChatLinkCode, type ChatProvider } from './chat-links.js';
import { assertRepoOfOrg, createApp, describeApp, normalizeOrigins } from './apps.js';
import type { IntakeDeps } from './deps.js';
import type { SlackInstallLinks } from './slack/install.js';

const API_BODY_LIMIT = 64 * 1024;

const CreateAppBody = z.object({
  name: z.string(),
  origins: z.array(z.string()).default([]),
  repoId: z.string().optional(),
});

const PatchAppBody = z.object({
  name: z.string().optional(),
  origins: z.array(z.string()).optional(),
  repoId: z.string().nullable().optional(),
  // `teamId` / `guildId` are read only to refuse them: a workspace is linked with proof (chatLinkNeedsProof).
  slack: z
    .object({ teamId: z.unknown().optional(), channelId: z.string().min(1).optional() })
    .nullable()
    .optional(),
  discord: z
    .object({
      guildId: z.unknown().optional(),
      channelId: z
        .string()
        .regex(/^\d{5,25}$/)
        .optional(),
      botToken: z.string().min(20).optional(),
    })
    .nullable()
    .optional(),
});

const ChatLinkCodeBody = z.object({ provider: z.enum(['slack', 'discord']) });

const chatLinkNeedsProof = () =>
  new UserzError(
    'chat_link_needs_proof',
    'A Slack workspace or Discord server cannot be linked by id. Use the Slack install link (POST /api/v1/apps/:id/slack/install-url) or a one-time link code (POST /api/v1/apps/:id/chat-link-codes) sent with /userz link from inside the workspace or server',
  );

/** Slack takes codes only in single-workspace mode: with OAuth configured, the install is the proof. */
function assertLinkCodesAccepted(deps: IntakeDeps, provider: ChatProvider): void {
  if (provider === 'slack' && !deps.config.slack) throw new UserzError('slack_not_configured', 'Slack is not configured on this server (SLACK_SIGNING_SECRET)');
  if (provider === 'slack' && deps.config.slack?.clientId) {
    throw new UserzError('slack_oauth_required', 'This server links Slack workspaces through OAuth: use POST /api/v1/apps/:id/slack/install-url');
  }
  if (provider === 'discord' && !deps.config.discord)
    throw new UserzError('discord_not_configured', 'Discord is not configured on this server (DISCORD_APPLICATION_ID, DISCORD_PUBLIC_KEY)');
}

async function readApiBody<T>(req: IncomingMessage, schema: z.ZodType<T>): Promise<T> {
  requireContentType(req, 'application/json');
  const parsed = schema.safeParse(parseJson(await readBody(req, API_BODY_LIMIT)));
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw new UserzError('invalid_request', `Invalid request: ${first.path.join('.') || 'body'} ${first.message}`);
  }
  return parsed.data;
}

/** The App API, authenticated with a customer `sk_` key: create, read, link chat channels. */
export function registerAppApiRoutes(router: Router, deps: IntakeDeps, apps: AppDirectory, slackInstall: SlackInstallLinks | null): void {
  const apiKeys = deps.apiKeys ?? new ApiKeyVerifier({ db: deps.db, cache: deps.cache, limits: deps.apiKeyLimits });
  const verifyKey = (req: IncomingMessage) => apiKeys.verify(bearerToken(req), clientIp(req, deps.trustProxy));
  router.add('POST', '/api/v1/apps', async (req, res) => {
    const key = await verifyKey(req);
    const body = await readApiBody(req, CreateAppBody);
    const created = await createApp(deps.db, deps.vault, {
      orgId: key.orgId,
      name: body.name,
      origins: body.origins,
      repoId: body.repoId,
      actor: `api_key:${key.id}`,
    });
    deps.log.info({ appId: created.app.id, orgId: key.orgId }, 'App created');
    // The signing secret is shown here once and never again.
    sendJson(res, 201, { app: describeApp(created.app), publicKey: created.publicKey, signingSecret: created.signingSecret });
  });

  router.add('GET', '/api/v1/apps/:id', async (req, res, { params }) => {
    const key = await verifyKey(req);
    const app = await getApp(deps.db, params.id!);
    if (!app || app.orgId !== key.orgId) throw new UserzError('app_not_found', `No App with id ${params.id}`);
    sendJson(res, 200, { app: describeApp(app) });
  });

  router.add('PATCH', '/api/v1/apps/:id', async (req, res, { params }) => {
    const key = await verifyKey(req);
    const body = await readApiBody(req, PatchAppBody);
    const actor = `api_key:${key.id}`;
    const links: AppLinks = { name: body.name?.trim(), repoId: body.repoId };
    if (body.origins) links.origins = normalizeOrigins(body.origins);
    if (body.slack?.teamId !== undefined || body.discord?.guildId !== undefined) throw chatLinkNeedsProof();
    // null unlinks; otherwise only the channel (and Discord bot token) of a linked workspace change here.
    if (body.slack === null) links.slackTeamId = links.slackChannelId = null;
    else if (body.slack?.channelId) links.slackChannelId = body.slack.channelId;
    const app = await deps.db.transaction(async (tx) => {
      if (body.discord !== undefined) {
        if (body.discord === null) links.discordGuildId = links.discordChannelId = links.discordBotTokenSecretId = null;
        else if (body.discord.channelId) links.discordChannelId = body.discord.channelId;
        if (body.discord?.botToken) links.discordBotTokenSecretId = await deps.vault.storeSecret(key.orgId, 'discord_bot_token', body.discord.botToken, tx);
      }
      // Any given repo id is checked, an empty one too (it names no repo of this org).
      if (typeof body.repoId === 'string') await assertRepoOfOrg(tx, body.repoId, key.orgId);
      return updateAppLinks(tx, key.orgId, params.id!, links, actor);
    });
    apps.forget();
    sendJson(res, 200, { app: describeApp(app) });
  });

  router.add('POST', '/api/v1/apps/:id/slack/install-url', async (req, res, { params }) => {
    const key = await verifyKey(req);
    if (!slackInstall) throw new UserzError('slack_not_configured', 'Slack OAuth is not configured on this server (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET)');
    const app = await getApp(deps.db, params.id!);
    if (!app || app.orgId !== key.orgId) throw new UserzError('app_not_found', `No App with id ${params.id}`);
    sendJson(res, 200, { url: slackInstall.installUrlFor(app.id) });
  });

  // A one-time code a workspace member (Slack, single-workspace mode) or a server manager
  // (Discord) sends with /userz link: the proof that the workspace wants this App.
  router.add('POST', '/api/v1/apps/:id/chat-link-codes', async (req, res, { params }) => {
    const key = await verifyKey(req);
    const { provider } = await readApiBody(req, ChatLinkCodeBody);
    assertLinkCodesAccepted(deps, provider);
    const { code, expiresAt } = await createChatLinkCode(deps.db, { orgId: key.orgId, appId: params.id!, provider, actor: `api_key:${key.id}` });
    deps.log.info({ appId: params.id, provider }, 'Chat link code created');
    const command = provider === 'slack' ? `/userz link ${code}` : `/userz link code:${code}`;
    // The code is shown here once; only its hash is stored.
    res.setHeader('cache-control', 'no-store');
    sendJson(res, 201, { code, provider, appId: params.id, expiresAt: expiresAt.toISOString(), command });
  });
}
