import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { UserzError } from '../errors.js';
import { bearerToken, clientIp, parseJson, readBody, requireContentType, sendJson, type Router } from '../http/index.js';
import { ApiKeyVerifier } from '../security/index.js';
import type { AppAdmin } from './app-admin.js';
import { describeApp } from './apps.js';
import type { IntakeDeps } from './deps.js';

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
export function registerAppApiRoutes(router: Router, deps: IntakeDeps, admin: AppAdmin): void {
  const apiKeys = deps.apiKeys ?? new ApiKeyVerifier({ db: deps.db, cache: deps.cache, limits: deps.apiKeyLimits });
  const verifyKey = (req: IncomingMessage) => apiKeys.verify(bearerToken(req), clientIp(req, deps.trustProxy));
  router.add('POST', '/api/v1/apps', async (req, res) => {
    const key = await verifyKey(req);
    const body = await readApiBody(req, CreateAppBody);
    const created = await admin.create({ orgId: key.orgId, name: body.name, origins: body.origins, repoId: body.repoId, actor: `api_key:${key.id}` });
    // The signing secret is shown here once and never again.
    sendJson(res, 201, { app: describeApp(created.app), publicKey: created.publicKey, signingSecret: created.signingSecret });
  });

  router.add('GET', '/api/v1/apps/:id', async (req, res, { params }) => {
    const key = await verifyKey(req);
    sendJson(res, 200, { app: describeApp(await admin.get(key.orgId, params.id!)) });
  });

  router.add('PATCH', '/api/v1/apps/:id', async (req, res, { params }) => {
    const key = await verifyKey(req);
    const body = await readApiBody(req, PatchAppBody);
    if (body.slack?.teamId !== undefined || body.discord?.guildId !== undefined) throw chatLinkNeedsProof();
    const app = await admin.update(
      key.orgId,
      params.id!,
      {
        name: body.name,
        origins: body.origins,
        repoId: body.repoId,
        slack: body.slack === null ? null : body.slack ? { channelId: body.slack.channelId } : undefined,
        discord: body.discord === null ? null : body.discord ? { channelId: body.discord.channelId, botToken: body.discord.botToken } : undefined,
      },
      `api_key:${key.id}`,
    );
    sendJson(res, 200, { app: describeApp(app) });
  });

  router.add('POST', '/api/v1/apps/:id/slack/install-url', async (req, res, { params }) => {
    const key = await verifyKey(req);
    sendJson(res, 200, { url: await admin.slackInstallUrl(key.orgId, params.id!) });
  });

  // A one-time code a workspace member (Slack, single-workspace mode) or a server manager
  // (Discord) sends with /userz link: the proof that the workspace wants this App.
  router.add('POST', '/api/v1/apps/:id/chat-link-codes', async (req, res, { params }) => {
    const key = await verifyKey(req);
    const { provider } = await readApiBody(req, ChatLinkCodeBody);
    const { code, expiresAt, command } = await admin.createLinkCode(key.orgId, params.id!, provider, `api_key:${key.id}`);
    // The code is shown here once; only its hash is stored.
    res.setHeader('cache-control', 'no-store');
    sendJson(res, 201, { code, provider, appId: params.id, expiresAt: expiresAt.toISOString(), command });
  });
}
