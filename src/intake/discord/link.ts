import type { APIChatInputApplicationCommandInteraction } from 'discord-api-types/v10';
import type { AppDirectory } from '../app-directory.js';
import { linkReply, redeemChatLinkCode } from '../chat-links.js';
import type { IntakeDeps } from '../deps.js';

// Discord permission bits: MANAGE_GUILD (1 << 5); ADMINISTRATOR (1 << 3) implies every permission.
const MANAGE_GUILD = 1n << 5n;
const ADMINISTRATOR = 1n << 3n;

/** True when the interaction's `member.permissions` (a decimal bitfield string) allows managing the server. */
export function canManageServer(permissions: unknown): boolean {
  if (typeof permissions !== 'string' || !/^\d{1,40}$/.test(permissions)) return false;
  return (BigInt(permissions) & (MANAGE_GUILD | ADMINISTRATOR)) !== 0n;
}

/** The `code` option of `/userz link code:<…>`, or undefined when the command is not `link`. */
export function readDiscordLinkCode(command: APIChatInputApplicationCommandInteraction): string | undefined {
  type Option = { name: string; type: number; value?: unknown; options?: Option[] };
  const sub = ((command.data.options ?? []) as Option[]).find((o) => o.name === 'link');
  if (!sub) return undefined;
  const code = (sub.options ?? []).find((o) => o.name === 'code')?.value;
  return typeof code === 'string' ? code.trim() : '';
}

/**
 * Links the server the command was sent from, with a one-time code, when the sender may
 * manage that server: Discord puts the member's resolved permissions in the signed
 * interaction. A DM carries no member and no server, so it links nothing.
 */
export async function answerDiscordLink(
  deps: IntakeDeps,
  apps: AppDirectory,
  command: APIChatInputApplicationCommandInteraction,
  code: string,
): Promise<string> {
  if (!command.guild_id || !command.member) return 'Use this command in a server channel.';
  if (!canManageServer(command.member.permissions)) return 'Only a member with the Manage Server permission can link this server to Userz.';
  if (!code) return 'Usage: /userz link code:<code>. The product’s admin creates a code with POST /api/v1/apps/<app id>/chat-link-codes.';
  const outcome = await redeemChatLinkCode(deps, {
    provider: 'discord',
    code,
    workspaceId: command.guild_id,
    channelId: command.channel?.id ?? null,
    actor: `discord:${command.member.user.id}`,
  });
  if (outcome.kind === 'linked') {
    apps.forget();
    deps.log.info({ appId: outcome.appId, guildId: command.guild_id }, 'Discord server linked with a code');
  } else {
    deps.log.warn({ guildId: command.guild_id, outcome: outcome.kind }, 'Discord link code refused');
  }
  return linkReply(outcome, 'Discord server');
}
