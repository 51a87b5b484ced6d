import { UserzError } from '../errors.js';
import { recordAudit } from './audit.js';
import type { Queryable } from './db/interface.js';

export type ChatProvider = 'slack' | 'discord';

/** Which columns of `apps` hold a provider's workspace (Slack team, Discord guild) and channel. */
const LINK_COLUMNS: Record<ChatProvider, { workspace: string; channel: string }> = {
  slack: { workspace: 'slack_team_id', channel: 'slack_channel_id' },
  discord: { workspace: 'discord_guild_id', channel: 'discord_channel_id' },
};

export interface NewChatLinkCode {
  codeHash: string;
  appId: string;
  orgId: string;
  provider: ChatProvider;
  ttlSeconds: number;
}

/**
 * Stores the hash of a new link code for one App and provider. Earlier unused codes for
 * the same App and provider stop working: one live code at a time. The expiry is taken
 * from the database clock, which is also the clock that checks it.
 */
export async function insertChatLinkCode(tx: Queryable, input: NewChatLinkCode, actor: string): Promise<{ expiresAt: Date }> {
  await tx.query('DELETE FROM chat_link_codes WHERE app_id = $1 AND provider = $2 AND used_at IS NULL', [input.appId, input.provider]);
  const [row] = await tx.query<{ expires_at: Date }>(
    `INSERT INTO chat_link_codes (code_hash, app_id, org_id, provider, created_by, expires_at)
     VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6::double precision)) RETURNING expires_at`,
    [input.codeHash, input.appId, input.orgId, input.provider, actor, input.ttlSeconds],
  );
  await recordAudit(tx, { actor, action: 'chat_link_code.create', orgId: input.orgId, subject: input.appId, data: { provider: input.provider } });
  return { expiresAt: new Date(row!.expires_at) };
}

/**
 * Marks a code used, once: only an unused, unexpired code of this provider matches, and
 * the UPDATE is atomic, so two concurrent redemptions cannot both succeed.
 */
export async function consumeChatLinkCode(
  tx: Queryable,
  codeHash: string,
  provider: ChatProvider,
  usedFor: string,
): Promise<{ appId: string; orgId: string } | null> {
  const [row] = await tx.query<{ app_id: string; org_id: string }>(
    `UPDATE chat_link_codes SET used_at = now(), used_for = $3
      WHERE code_hash = $1 AND provider = $2 AND used_at IS NULL AND expires_at > now()
      RETURNING app_id, org_id`,
    [codeHash, provider, usedFor],
  );
  return row ? { appId: row.app_id, orgId: row.org_id } : null;
}

export interface ChatLink {
  appId: string;
  orgId: string;
  provider: ChatProvider;
  workspaceId: string;
  channelId: string | null;
}

/**
 * Links a workspace or guild to an App (replacing the App's previous one). A workspace
 * already linked to another App stays there: 409 `link_taken`, and that App's owner
 * unlinks it first.
 */
export async function linkChatWorkspace(tx: Queryable, link: ChatLink, actor: string): Promise<void> {
  const { workspace, channel } = LINK_COLUMNS[link.provider];
  const taken = await tx.query(`SELECT 1 FROM apps WHERE ${workspace} = $1 AND id <> $2`, [link.workspaceId, link.appId]);
  const linkTaken = () => new UserzError('link_taken', 'That Slack workspace or Discord server is already linked to another App');
  if (taken.length > 0) throw linkTaken();
  try {
    await tx.query(`UPDATE apps SET ${workspace} = $1, ${channel} = $2 WHERE id = $3 AND org_id = $4`, [
      link.workspaceId,
      link.channelId,
      link.appId,
      link.orgId,
    ]);
  } catch (e) {
    // A concurrent link of the same workspace won the unique index.
    if ((e as { code?: string }).code === '23505') throw linkTaken();
    throw e;
  }
  await recordAudit(tx, { actor, action: `${link.provider}.link`, orgId: link.orgId, subject: link.appId, data: { workspaceId: link.workspaceId } });
}
