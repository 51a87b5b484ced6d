import { UserzError } from '../errors.js';
import { getApp, listApps, replaceAppSigningSecret, randomBase62, updateAppLinks, type App, type AppLinks } from '../store/index.js';
import type { AppDirectory } from './app-directory.js';
import { assertRepoOfOrg, createApp, normalizeOrigins, type CreatedApp } from './apps.js';
import { createChatLinkCode, type ChatProvider } from './chat-links.js';
import type { IntakeDeps } from './deps.js';
import type { SlackInstallLinks } from './slack/install.js';

/** A change to an App as the API's PATCH and the console's forms give it; `undefined` leaves a field. */
export interface AppPatch {
  name?: string;
  origins?: string[];
  repoId?: string | null;
  /** null unlinks the workspace; otherwise only the channel of a linked workspace changes. */
  slack?: { channelId?: string } | null;
  discord?: { channelId?: string; botToken?: string } | null;
}

export interface ChatLinkCode {
  code: string;
  provider: ChatProvider;
  expiresAt: Date;
  /** What to type in the workspace or server. */
  command: string;
}

/**
 * Every change to an App, for the `/api/v1/apps` routes and the console's App pages alike:
 * the caller has checked who may act for `orgId`; these check that the App is that org's,
 * keep the widget's App cache fresh, and return secrets only where they are shown once.
 */
export class AppAdmin {
  constructor(
    private readonly deps: Pick<IntakeDeps, 'db' | 'vault' | 'log' | 'config'>,
    private readonly apps: AppDirectory,
    private readonly slackInstall: SlackInstallLinks | null,
  ) {}

  list(orgId: string): Promise<App[]> {
    return listApps(this.deps.db, orgId);
  }

  /** The org's App, or 404 `app_not_found` (also for another org's App). */
  async get(orgId: string, appId: string): Promise<App> {
    const app = await getApp(this.deps.db, appId);
    if (!app || app.orgId !== orgId) throw new UserzError('app_not_found', `No App with id ${appId}`);
    return app;
  }

  async create(input: { orgId: string; name: string; origins: string[]; repoId?: string | null; actor: string }): Promise<CreatedApp> {
    const created = await createApp(this.deps.db, this.deps.vault, input);
    this.deps.log.info({ appId: created.app.id, orgId: input.orgId }, 'App created');
    return created;
  }

  async update(orgId: string, appId: string, patch: AppPatch, actor: string): Promise<App> {
    const links: AppLinks = { name: patch.name?.trim(), repoId: patch.repoId };
    if (links.name !== undefined && (links.name.length === 0 || links.name.length > 200))
      throw new UserzError('invalid_app_name', 'App name must be 1 to 200 characters');
    if (patch.origins) links.origins = normalizeOrigins(patch.origins);
    if (patch.slack === null) links.slackTeamId = links.slackChannelId = null;
    else if (patch.slack?.channelId) links.slackChannelId = patch.slack.channelId;
    const app = await this.deps.db.transaction(async (tx) => {
      if (patch.discord !== undefined) {
        if (patch.discord === null) links.discordGuildId = links.discordChannelId = links.discordBotTokenSecretId = null;
        else if (patch.discord.channelId) links.discordChannelId = patch.discord.channelId;
        if (patch.discord?.botToken) links.discordBotTokenSecretId = await this.deps.vault.storeSecret(orgId, 'discord_bot_token', patch.discord.botToken, tx);
      }
      // Any given repo id is checked, an empty one too (it names no repo of this org).
      if (typeof patch.repoId === 'string') await assertRepoOfOrg(tx, patch.repoId, orgId);
      return updateAppLinks(tx, orgId, appId, links, actor);
    });
    this.apps.forget();
    return app;
  }

  /** A new private-mode signing secret, returned here once; the old one stops verifying. */
  async rotateSigningSecret(orgId: string, appId: string, actor: string): Promise<{ app: App; signingSecret: string }> {
    const signingSecret = `uzsig_${randomBase62(43)}`;
    const app = await this.deps.db.transaction(async (tx) => {
      const secretId = await this.deps.vault.storeSecret(orgId, 'app_signing_secret', signingSecret, tx);
      return replaceAppSigningSecret(tx, orgId, appId, secretId, actor);
    });
    this.apps.forget();
    this.deps.log.info({ appId, orgId }, 'App signing secret rotated');
    return { app, signingSecret };
  }

  /** Whether this server links Slack through its OAuth install link (else through link codes, when Slack is configured). */
  get slackInstallConfigured(): boolean {
    return this.slackInstall !== null;
  }

  /** The providers whose workspaces link with a one-time code on this server. */
  linkCodeProviders(): ChatProvider[] {
    const out: ChatProvider[] = [];
    if (this.deps.config.slack && !this.deps.config.slack.clientId) out.push('slack');
    if (this.deps.config.discord) out.push('discord');
    return out;
  }

  async slackInstallUrl(orgId: string, appId: string): Promise<string> {
    if (!this.slackInstall) throw new UserzError('slack_not_configured', 'Slack OAuth is not configured on this server (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET)');
    const app = await this.get(orgId, appId);
    return this.slackInstall.installUrlFor(app.id);
  }

  /** A one-time code a workspace member (Slack, single-workspace mode) or a server manager (Discord) sends with /userz link. */
  async createLinkCode(orgId: string, appId: string, provider: ChatProvider, actor: string): Promise<ChatLinkCode> {
    this.assertLinkCodesAccepted(provider);
    const { code, expiresAt } = await createChatLinkCode(this.deps.db, { orgId, appId, provider, actor });
    this.deps.log.info({ appId, provider }, 'Chat link code created');
    return { code, provider, expiresAt, command: provider === 'slack' ? `/userz link ${code}` : `/userz link code:${code}` };
  }

  /** Slack takes codes only in single-workspace mode: with OAuth configured, the install is the proof. */
  private assertLinkCodesAccepted(provider: ChatProvider): void {
    const { slack, discord } = this.deps.config;
    if (provider === 'slack' && !slack) throw new UserzError('slack_not_configured', 'Slack is not configured on this server (SLACK_SIGNING_SECRET)');
    if (provider === 'slack' && slack?.clientId) {
      throw new UserzError('slack_oauth_required', 'This server links Slack workspaces through OAuth: use POST /api/v1/apps/:id/slack/install-url');
    }
    if (provider === 'discord' && !discord)
      throw new UserzError('discord_not_configured', 'Discord is not configured on this server (DISCORD_APPLICATION_ID, DISCORD_PUBLIC_KEY)');
  }
}
