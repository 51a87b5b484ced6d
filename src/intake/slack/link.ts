import type { AppDirectory } from '../app-directory.js';
import { linkReply, redeemChatLinkCode } from '../chat-links.js';
import type { IntakeDeps } from '../deps.js';

/**
 * The code of `/userz link UZL-…`, '' for a bare `/userz link`, or undefined when the
 * text is a report (a report may well start with "link": "link button is broken").
 */
export function readSlackLinkCode(text: string): string | undefined {
  const m = /^link(?:\s+(\S+))?$/i.exec(text);
  if (!m) return undefined;
  if (m[1] === undefined) return '';
  return /^uzl/i.test(m[1]) ? m[1] : undefined;
}

/**
 * Links the sender's workspace with a one-time code. Only in single-workspace mode (no
 * OAuth configured): there the Slack app is the operator's own, installed in one
 * workspace, and any member who holds a code the org created may link it. With OAuth
 * configured, installing through OAuth is the proof and codes are not accepted.
 */
export async function answerSlackLink(
  deps: IntakeDeps,
  apps: AppDirectory,
  command: { team_id: string; channel_id: string; user_id: string },
  code: string,
): Promise<string> {
  if (deps.config.slack?.clientId) return 'This Userz server connects Slack workspaces with an install link, not a link code: ask the product’s admin for one.';
  if (!code) return 'Usage: /userz link <code>. The product’s admin creates a code with POST /api/v1/apps/<app id>/chat-link-codes.';
  const outcome = await redeemChatLinkCode(deps, {
    provider: 'slack',
    code,
    workspaceId: command.team_id,
    channelId: command.channel_id,
    actor: `slack:${command.user_id}`,
  });
  if (outcome.kind === 'linked') {
    apps.forget();
    deps.log.info({ appId: outcome.appId, teamId: command.team_id }, 'Slack workspace linked with a code');
  } else {
    deps.log.warn({ teamId: command.team_id, outcome: outcome.kind }, 'Slack link code refused');
  }
  return linkReply(outcome, 'Slack workspace');
}

/** What an unlinked workspace is told: how it gets linked on this server. */
export function notConnectedText(deps: IntakeDeps): string {
  if (deps.config.slack?.clientId) {
    return `This Slack workspace is not connected to Userz yet. An admin of the product can connect it with an install link from ${deps.config.publicUrl}/slack/install (get one with POST /api/v1/apps/<app id>/slack/install-url).`;
  }
  return 'This Slack workspace is not connected to Userz yet. An admin of the product can create a link code (POST /api/v1/apps/<app id>/chat-link-codes) and send it here with /userz link <code>.';
}
