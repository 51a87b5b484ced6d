import { UserzError } from '../errors.js';
import { recordAudit } from './audit.js';
import type { Queryable } from './db/interface.js';
import { toPage, type Page, type PageRequest } from './keyset.js';
import { afterCursor, cursorParams } from './list-cursor.js';

/** One customer product: the widget's public key, allowed origins and its chat links. */
export interface App {
  id: string;
  orgId: string;
  name: string;
  publicKey: string;
  origins: string[];
  signingSecretId: string | null;
  repoId: string | null;
  slackTeamId: string | null;
  slackChannelId: string | null;
  discordGuildId: string | null;
  discordChannelId: string | null;
  discordBotTokenSecretId: string | null;
  dailyRunLimit: number;
  createdAt: Date;
}

type AppRow = {
  id: string;
  org_id: string;
  name: string;
  public_key: string;
  origins: string[];
  signing_secret_id: string | null;
  repo_id: string | null;
  slack_team_id: string | null;
  slack_channel_id: string | null;
  discord_guild_id: string | null;
  discord_channel_id: string | null;
  discord_bot_token_secret_id: string | null;
  daily_run_limit: number;
  created_at: Date;
};

const COLUMNS =
  'id, org_id, name, public_key, origins, signing_secret_id, repo_id, slack_team_id, slack_channel_id, discord_guild_id, discord_channel_id, discord_bot_token_secret_id, daily_run_limit, created_at';

function toApp(r: AppRow): App {
  return {
    id: r.id,
    orgId: r.org_id,
    name: r.name,
    publicKey: r.public_key,
    origins: r.origins,
    signingSecretId: r.signing_secret_id,
    repoId: r.repo_id,
    slackTeamId: r.slack_team_id,
    slackChannelId: r.slack_channel_id,
    discordGuildId: r.discord_guild_id,
    discordChannelId: r.discord_channel_id,
    discordBotTokenSecretId: r.discord_bot_token_secret_id,
    dailyRunLimit: Number(r.daily_run_limit),
    createdAt: r.created_at,
  };
}

export interface NewApp {
  id: string;
  orgId: string;
  name: string;
  publicKey: string;
  origins: string[];
  signingSecretId: string;
  repoId?: string | null;
}

export async function insertApp(tx: Queryable, input: NewApp, actor: string): Promise<App> {
  const [row] = await tx.query<AppRow>(
    `INSERT INTO apps (id, org_id, name, public_key, origins, signing_secret_id, repo_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
    [input.id, input.orgId, input.name, input.publicKey, JSON.stringify(input.origins), input.signingSecretId, input.repoId ?? null],
  );
  await recordAudit(tx, { actor, action: 'app.create', orgId: input.orgId, subject: input.id, data: { origins: input.origins } });
  return toApp(row!);
}

export async function getApp(db: Queryable, id: string): Promise<App | null> {
  const [row] = await db.query<AppRow>(`SELECT ${COLUMNS} FROM apps WHERE id = $1`, [id]);
  return row ? toApp(row) : null;
}

export async function findAppByPublicKey(db: Queryable, publicKey: string): Promise<App | null> {
  const [row] = await db.query<AppRow>(`SELECT ${COLUMNS} FROM apps WHERE public_key = $1`, [publicKey]);
  return row ? toApp(row) : null;
}

export async function findAppBySlackTeam(db: Queryable, teamId: string): Promise<App | null> {
  const [row] = await db.query<AppRow>(`SELECT ${COLUMNS} FROM apps WHERE slack_team_id = $1`, [teamId]);
  return row ? toApp(row) : null;
}

export async function findAppByDiscordGuild(db: Queryable, guildId: string): Promise<App | null> {
  const [row] = await db.query<AppRow>(`SELECT ${COLUMNS} FROM apps WHERE discord_guild_id = $1`, [guildId]);
  return row ? toApp(row) : null;
}

export async function listApps(db: Queryable, orgId: string): Promise<App[]> {
  const rows = await db.query<AppRow>(`SELECT ${COLUMNS} FROM apps WHERE org_id = $1 ORDER BY created_at, id`, [orgId]);
  return rows.map(toApp);
}

/** The org's Apps a page at a time, newest first (apps_org_list_idx): GET /api/v1/apps. */
export async function listAppsPage(db: Queryable, orgId: string, page: PageRequest): Promise<Page<App>> {
  const rows = await db.query<AppRow>(
    `SELECT ${COLUMNS} FROM apps
      WHERE org_id = $1 AND ${afterCursor('apps', 2)}
      ORDER BY created_at DESC, id DESC
      LIMIT $4`,
    [orgId, ...cursorParams(page), page.limit + 1],
  );
  return toPage(rows.map(toApp), page.limit, (a) => ({ at: a.createdAt, id: a.id }));
}

/** Fields PATCH /api/v1/apps/:id may change; `undefined` leaves a field, `null` clears it. */
export interface AppLinks {
  name?: string;
  origins?: string[];
  repoId?: string | null;
  slackTeamId?: string | null;
  slackChannelId?: string | null;
  discordGuildId?: string | null;
  discordChannelId?: string | null;
  discordBotTokenSecretId?: string | null;
}

const LINK_COLUMNS: Record<keyof AppLinks, string> = {
  name: 'name',
  origins: 'origins',
  repoId: 'repo_id',
  slackTeamId: 'slack_team_id',
  slackChannelId: 'slack_channel_id',
  discordGuildId: 'discord_guild_id',
  discordChannelId: 'discord_channel_id',
  discordBotTokenSecretId: 'discord_bot_token_secret_id',
};

/** Updates an App of `orgId`; 404 when it does not exist in that org, 409 when a workspace or guild is taken. */
export async function updateAppLinks(db: Queryable, orgId: string, appId: string, links: AppLinks, actor: string): Promise<App> {
  const sets: string[] = [];
  const params: unknown[] = [appId, orgId];
  for (const [field, column] of Object.entries(LINK_COLUMNS) as Array<[keyof AppLinks, string]>) {
    const value = links[field];
    if (value === undefined) continue;
    params.push(field === 'origins' ? JSON.stringify(value) : value);
    sets.push(`${column} = $${params.length}`);
  }
  if (sets.length === 0) {
    const app = await getApp(db, appId);
    if (!app || app.orgId !== orgId) throw appNotFound(appId);
    return app;
  }
  let rows: AppRow[];
  try {
    rows = await db.query<AppRow>(`UPDATE apps SET ${sets.join(', ')} WHERE id = $1 AND org_id = $2 RETURNING ${COLUMNS}`, params);
  } catch (e) {
    if ((e as { code?: string }).code === '23505') {
      throw new UserzError('link_taken', 'That Slack workspace or Discord guild is already linked to another App');
    }
    if ((e as { code?: string }).code === '23503') throw new UserzError('repo_not_found', 'No such repo');
    throw e;
  }
  if (rows.length === 0) throw appNotFound(appId);
  const changed = (Object.keys(links) as Array<keyof AppLinks>).filter((k) => links[k] !== undefined);
  await recordAudit(db, { actor, action: 'app.update', orgId, subject: appId, data: { fields: changed } });
  return toApp(rows[0]!);
}

/**
 * Points an App of `orgId` at a new signing secret and deletes the old one's ciphertext, in
 * the caller's transaction; tokens signed with the old secret stop verifying.
 */
export async function replaceAppSigningSecret(tx: Queryable, orgId: string, appId: string, secretId: string, actor: string): Promise<App> {
  const [old] = await tx.query<{ signing_secret_id: string | null }>('SELECT signing_secret_id FROM apps WHERE id = $1 AND org_id = $2 FOR UPDATE', [
    appId,
    orgId,
  ]);
  if (!old) throw appNotFound(appId);
  const [row] = await tx.query<AppRow>(`UPDATE apps SET signing_secret_id = $3 WHERE id = $1 AND org_id = $2 RETURNING ${COLUMNS}`, [appId, orgId, secretId]);
  if (old.signing_secret_id) await tx.query('DELETE FROM secrets WHERE id = $1 AND org_id = $2', [old.signing_secret_id, orgId]);
  await recordAudit(tx, { actor, action: 'app.signing_secret_rotate', orgId, subject: appId });
  return toApp(row!);
}

export const appNotFound = (id: string) => new UserzError('app_not_found', `No App with id ${id}`);

/** A Slack workspace installed through OAuth; the bot token is a vault secret. */
export interface SlackInstallation {
  teamId: string;
  appId: string;
  orgId: string;
  teamName: string | null;
  botUserId: string | null;
  botTokenSecretId: string | null;
  installedBy: string | null;
  installedAt: Date;
}

type SlackInstallationRow = {
  team_id: string;
  app_id: string;
  org_id: string;
  team_name: string | null;
  bot_user_id: string | null;
  bot_token_secret_id: string | null;
  installed_by: string | null;
  installed_at: Date;
};

function toSlackInstallation(r: SlackInstallationRow): SlackInstallation {
  return {
    teamId: r.team_id,
    appId: r.app_id,
    orgId: r.org_id,
    teamName: r.team_name,
    botUserId: r.bot_user_id,
    botTokenSecretId: r.bot_token_secret_id,
    installedBy: r.installed_by,
    installedAt: r.installed_at,
  };
}

/** Records (or refreshes) a workspace install and links the workspace to the App, in one transaction. */
export async function saveSlackInstallation(tx: Queryable, input: Omit<SlackInstallation, 'installedAt'>, actor: string): Promise<SlackInstallation> {
  const [row] = await tx.query<SlackInstallationRow>(
    `INSERT INTO slack_installations (team_id, app_id, org_id, team_name, bot_user_id, bot_token_secret_id, installed_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (team_id) DO UPDATE SET app_id = EXCLUDED.app_id, org_id = EXCLUDED.org_id, team_name = EXCLUDED.team_name,
       bot_user_id = EXCLUDED.bot_user_id, bot_token_secret_id = EXCLUDED.bot_token_secret_id, installed_by = EXCLUDED.installed_by,
       installed_at = now(), uninstalled_at = NULL
     RETURNING team_id, app_id, org_id, team_name, bot_user_id, bot_token_secret_id, installed_by, installed_at`,
    [input.teamId, input.appId, input.orgId, input.teamName, input.botUserId, input.botTokenSecretId, input.installedBy],
  );
  // A workspace maps to one App: take it off any other App first (the unique index).
  await tx.query('UPDATE apps SET slack_team_id = NULL WHERE slack_team_id = $1 AND id <> $2', [input.teamId, input.appId]);
  await tx.query('UPDATE apps SET slack_team_id = $1 WHERE id = $2', [input.teamId, input.appId]);
  await recordAudit(tx, { actor, action: 'slack.install', orgId: input.orgId, subject: input.appId, data: { teamId: input.teamId } });
  return toSlackInstallation(row!);
}

export async function getSlackInstallation(db: Queryable, teamId: string): Promise<SlackInstallation | null> {
  const [r] = await db.query<SlackInstallationRow>(
    `SELECT team_id, app_id, org_id, team_name, bot_user_id, bot_token_secret_id, installed_by, installed_at
       FROM slack_installations WHERE team_id = $1 AND uninstalled_at IS NULL`,
    [teamId],
  );
  return r ? toSlackInstallation(r) : null;
}

/** True when some App allows `origin` (CORS preflights carry no key, only the origin). */
export async function isOriginAllowedByAnyApp(db: Queryable, origin: string): Promise<boolean> {
  const rows = await db.query('SELECT 1 FROM apps WHERE origins @> $1::jsonb LIMIT 1', [JSON.stringify([origin])]);
  return rows.length > 0;
}
