import { z } from 'zod';
import { ApiRoutes, pageOf, pageQuery } from '../api/index.js';
import { UserzError } from '../errors.js';
import { bearerToken, clientIp, type Router } from '../http/index.js';
import { ApiKeyVerifier } from '../security/index.js';
import { listAppsPage } from '../store/index.js';
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

const AppView = z.object({
  id: z.string(),
  orgId: z.string(),
  name: z.string(),
  publicKey: z.string().describe("The widget's public key (pub_…)"),
  origins: z.array(z.string()),
  repoId: z.string().nullable(),
  slack: z.object({ teamId: z.string(), channelId: z.string().nullable() }).nullable(),
  discord: z.object({ guildId: z.string(), channelId: z.string().nullable(), botToken: z.enum(['stored']).nullable() }).nullable(),
  createdAt: z.iso.datetime(),
});
const AppAnswer = z.object({ app: AppView });
const APP_ERRORS = ['app_not_found'] as const;
const BODY = { limit: API_BODY_LIMIT, invalidCode: 'invalid_request' } as const;

/** The App API, authenticated with a customer `sk_` key: create, list, read, link chat channels. */
export function registerAppApiRoutes(router: Router, deps: IntakeDeps, admin: AppAdmin): void {
  const api = deps.api ?? ownApiRoutes(router, deps);

  api
    .add({
      method: 'POST',
      path: '/api/v1/apps',
      operationId: 'createApp',
      tag: 'Apps',
      summary: 'Create an App; its signing secret is in this answer only',
      permission: 'edit',
      body: { schema: CreateAppBody, ...BODY },
      responses: { 201: z.object({ app: AppView, publicKey: z.string(), signingSecret: z.string().describe('Shown once, never again') }) },
      errors: ['invalid_app_name', 'invalid_origin', 'repo_not_found'],
    })
    .handle(async ({ principal, body }) => {
      const created = await admin.create({ orgId: principal.orgId, name: body.name, origins: body.origins, repoId: body.repoId, actor: principal.actor });
      // The signing secret is shown here once and never again.
      return { status: 201, body: { app: describeApp(created.app), publicKey: created.publicKey, signingSecret: created.signingSecret } };
    });

  api
    .add({
      method: 'GET',
      path: '/api/v1/apps',
      operationId: 'listApps',
      tag: 'Apps',
      summary: "The org's Apps, newest first",
      permission: 'read',
      query: z.object(pageQuery),
      responses: { 200: pageOf(AppView) },
    })
    .handle(async ({ principal, query }) => {
      const page = await listAppsPage(deps.db, principal.orgId, query);
      return { status: 200, body: { items: page.items.map(describeApp), nextCursor: page.nextCursor } };
    });

  api
    .add({
      method: 'GET',
      path: '/api/v1/apps/:id',
      operationId: 'getApp',
      tag: 'Apps',
      summary: 'One App',
      permission: 'read',
      responses: { 200: AppAnswer },
      errors: APP_ERRORS,
    })
    .handle(async ({ principal, params }) => ({ status: 200, body: { app: describeApp(await admin.get(principal.orgId, params.id!)) } }));

  api
    .add({
      method: 'PATCH',
      path: '/api/v1/apps/:id',
      operationId: 'updateApp',
      tag: 'Apps',
      summary: "Change an App's name, origins, repository or chat channels",
      permission: 'edit',
      body: { schema: PatchAppBody, ...BODY },
      responses: { 200: AppAnswer },
      errors: [...APP_ERRORS, 'chat_link_needs_proof', 'invalid_app_name', 'invalid_origin', 'repo_not_found', 'link_taken'],
    })
    .handle(async ({ principal, params, body }) => {
      if (body.slack?.teamId !== undefined || body.discord?.guildId !== undefined) throw chatLinkNeedsProof();
      const app = await admin.update(
        principal.orgId,
        params.id!,
        {
          name: body.name,
          origins: body.origins,
          repoId: body.repoId,
          slack: body.slack === null ? null : body.slack ? { channelId: body.slack.channelId } : undefined,
          discord: body.discord === null ? null : body.discord ? { channelId: body.discord.channelId, botToken: body.discord.botToken } : undefined,
        },
        principal.actor,
      );
      return { status: 200, body: { app: describeApp(app) } };
    });

  api
    .add({
      method: 'POST',
      path: '/api/v1/apps/:id/slack/install-url',
      operationId: 'createSlackInstallUrl',
      tag: 'Apps',
      summary: 'A Slack install link that links the workspace to this App',
      permission: 'edit',
      responses: { 200: z.object({ url: z.string() }) },
      errors: [...APP_ERRORS, 'slack_not_configured'],
    })
    .handle(async ({ principal, params }) => ({ status: 200, body: { url: await admin.slackInstallUrl(principal.orgId, params.id!) } }));

  // A one-time code a workspace member (Slack, single-workspace mode) or a server manager
  // (Discord) sends with /userz link: the proof that the workspace wants this App.
  api
    .add({
      method: 'POST',
      path: '/api/v1/apps/:id/chat-link-codes',
      operationId: 'createChatLinkCode',
      tag: 'Apps',
      summary: 'A one-time code to send with /userz link from the Slack workspace or Discord server',
      permission: 'edit',
      body: { schema: ChatLinkCodeBody, ...BODY },
      responses: {
        201: z.object({ code: z.string(), provider: z.enum(['slack', 'discord']), appId: z.string(), expiresAt: z.iso.datetime(), command: z.string() }),
      },
      errors: [...APP_ERRORS, 'slack_not_configured', 'slack_oauth_required', 'discord_not_configured'],
    })
    .handle(async ({ principal, params, body }) => {
      const { code, expiresAt, command } = await admin.createLinkCode(principal.orgId, params.id!, body.provider, principal.actor);
      // The code is shown here once; only its hash is stored.
      return {
        status: 201,
        body: { code, provider: body.provider, appId: params.id!, expiresAt: expiresAt.toISOString(), command },
        headers: { 'cache-control': 'no-store' },
      };
    });
}

/** Without the process's routes (tests that mount intake alone), a registry of intake's own with its own verifier. */
function ownApiRoutes(router: Router, deps: IntakeDeps): ApiRoutes {
  const apiKeys = deps.apiKeys ?? new ApiKeyVerifier({ db: deps.db, cache: deps.cache, limits: deps.apiKeyLimits });
  return new ApiRoutes(router, (req) => apiKeys.verify(bearerToken(req), clientIp(req, deps.trustProxy)));
}
