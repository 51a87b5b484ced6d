import { REST, type RESTOptions } from '@discordjs/rest';

// @discordjs/rest types its fetch narrowly; the global fetch is what it calls (and what nock intercepts).
type RestRequest = RESTOptions['makeRequest'];
import { InteractionResponseType, InteractionType, Routes, type APIInteraction, type APIChatInputApplicationCommandInteraction } from 'discord-api-types/v10';
import { createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';
import { UserzError, errorMessage, isUserzError } from '../../errors.js';
import { parseJson, readBody, sendJson, type Router } from '../../http/index.js';
import { ReplayGuard, SIGNED_REQUEST_REPLAY_TTL_MS } from '../../security/index.js';
import { acceptReport } from '../accept.js';
import type { AppDirectory } from '../app-directory.js';
import { DEFAULT_CHAT_ACK_MS, raceDeadline } from '../chat-deadline.js';
import type { IntakeDeps } from '../deps.js';
import type { IntakeLimiter } from '../rate-limits.js';
import { enforceTextLimit } from '../report-input.js';
import { chatMessageFor, refusalCode } from '../slack/command.js';
import { DiscordInteraction } from './interaction-schema.js';
import { answerDiscordLink, readDiscordLinkCode } from './link.js';

const BODY_LIMIT = 64 * 1024;
const TIMESTAMP_WINDOW_S = 300;
const EPHEMERAL = 64;
// An Ed25519 public key in SPKI DER is this fixed prefix and the 32 raw key bytes (RFC 8410).
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const SIGNATURE_HEX = /^[0-9a-f]{128}$/i;

/**
 * Discord: Ed25519 over timestamp + body. node:crypto's one-shot verify, native and
 * synchronous: discord-interactions' verifyKey goes through WebCrypto, whose argument
 * checks in JS and trip to the thread pool cost more than the signature check itself
 * (the largest intake frame in the profile at 1,000 req/s).
 */
function discordVerifier(publicKeyHex: string, log: IntakeDeps['log']): (body: Buffer, signature: string, timestamp: string) => boolean {
  let key: KeyObject | undefined;
  try {
    key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(publicKeyHex, 'hex')]), format: 'der', type: 'spki' });
  } catch (e) {
    log.error({ err: errorMessage(e) }, 'Discord public key cannot be imported');
  }
  return (body, signature, timestamp) => {
    if (key === undefined || !SIGNATURE_HEX.test(signature)) return false;
    try {
      return verifySignature(null, Buffer.concat([Buffer.from(timestamp, 'utf8'), body]), key, Buffer.from(signature, 'hex'));
    } catch {
      return false;
    }
  };
}

/**
 * Discord HTTP interactions at POST /discord/interactions. Discord signs timestamp + body
 * with Ed25519; we verify against the application's public key (401 on failure, which
 * Discord's own endpoint check requires), answer PING with PONG, and answer `/userz report`
 * with a deferred ephemeral response, then follow up with the report id.
 */
export function registerDiscordRoutes(router: Router, deps: IntakeDeps, limiter: IntakeLimiter, apps: AppDirectory): { idle(): Promise<void> } {
  const discord = deps.config.discord;
  const pending = new Set<Promise<void>>();
  if (!discord) return { idle: async () => undefined };
  const replay = new ReplayGuard(deps.cache, SIGNED_REQUEST_REPLAY_TTL_MS);
  // Imported once, not on every request.
  const verify = discordVerifier(discord.publicKey, deps.log);
  const rest = new REST({
    makeRequest: (deps.notifierFetch ?? fetch) as unknown as RestRequest,
    api: deps.discordApiUrl ?? 'https://discord.com/api',
    retries: 1,
  });

  router.add('POST', '/discord/interactions', async (req, res) => {
    const signature = String(req.headers['x-signature-ed25519'] ?? '');
    const timestamp = String(req.headers['x-signature-timestamp'] ?? '');
    const body = await readBody(req, BODY_LIMIT);
    if (!signature || !timestamp || !verify(body, signature, timestamp)) {
      throw new UserzError('bad_signature', 'Invalid request signature');
    }
    if (!(Math.abs(Date.now() / 1000 - Number(timestamp)) <= TIMESTAMP_WINDOW_S)) {
      throw new UserzError('stale_request', 'Request timestamp is outside the 300 s window');
    }
    const interaction = parseInteraction(parseJson(body), deps.log) as unknown as APIInteraction;
    if (interaction.type === InteractionType.Ping) return sendJson(res, 200, { type: InteractionResponseType.Pong });
    const reply = (content: string) => sendJson(res, 200, { type: InteractionResponseType.ChannelMessageWithSource, data: { content, flags: EPHEMERAL } });
    if (interaction.type !== InteractionType.ApplicationCommand || interaction.data.name !== 'userz') return reply('Unknown command.');
    if (!(await replay.firstSighting('discord', interaction.id))) return reply('This interaction was already received.');

    const command = interaction as APIChatInputApplicationCommandInteraction;
    const linkCode = readDiscordLinkCode(command);
    if (linkCode !== undefined) return reply(await answerDiscordLink(deps, apps, command, linkCode));
    const text = readReportText(command)?.trim();
    if (!text) return reply('Usage: /userz report text:<what went wrong>');
    if (!command.guild_id) return reply('Use this command in a server channel.');
    const userId = command.member?.user.id ?? command.user?.id ?? 'unknown';
    const app = await apps.byDiscordGuild(command.guild_id);
    if (!app) {
      const invite = `https://discord.com/oauth2/authorize?client_id=${discord.applicationId}&scope=applications.commands%20bot&permissions=2048`;
      return reply(
        `This server is not connected to Userz yet. An admin of the product can add the bot (${invite}) and link the server: create a code with POST /api/v1/apps/<app id>/chat-link-codes and send it here with /userz link (needs the Manage Server permission).`,
      );
    }
    const guildId = command.guild_id;
    const stored = (async () => {
      enforceTextLimit(text);
      await limiter.checkAppAndIp(app.id, null);
      await limiter.checkReporter(app.id, `discord:${userId}`);
      const { report } = await acceptReport(deps, {
        app,
        source: 'discord',
        content: { text, reporter: { discordUserId: userId, discordGuildId: guildId } },
        replyTo: { kind: 'discord', guildId, channelId: command.channel.id, userId, applicationId: command.application_id },
        reporterKey: `discord:${userId}`,
        actor: 'discord',
      });
      return report.id;
    })().then(
      (reportId) => ({ reportId }),
      (e: unknown) => {
        deps.metrics?.reportRefused('discord', refusalCode(e));
        return { e };
      },
    );
    // Discord wants an answer within 3 s: a store that is late gets the deferred answer
    // now and its outcome in the follow-up, never a timeout for a report that is stored.
    // A store in time is answered with its outcome directly, as Slack is: a follow-up
    // costs a second HTTP request per report (a third of the Discord path's CPU at load).
    const first = await raceDeadline(stored, deps.chatAckMs ?? DEFAULT_CHAT_ACK_MS);
    if (first.done) {
      if ('e' in first.value) {
        const e = first.value.e;
        if (!isUserzError(e) || e.status >= 500) deps.log.error({ appId: app.id, err: errorMessage(e) }, 'Discord report could not be stored');
      } else {
        deps.log.info({ reportId: first.value.reportId, appId: app.id, guildId }, 'Discord report received');
      }
      return reply(followUpText(first.value));
    }
    sendJson(res, 200, { type: InteractionResponseType.DeferredChannelMessageWithSource, data: { flags: EPHEMERAL } });
    const followUp = stored
      .then(async (outcome) => {
        const reportId = 'reportId' in outcome ? outcome.reportId : undefined;
        if (reportId) deps.log.info({ reportId, appId: app.id, guildId }, 'Discord report received');
        else deps.log.error({ appId: app.id, err: errorMessage('e' in outcome ? outcome.e : undefined) }, 'Discord report could not be stored');
        await rest
          .patch(Routes.webhookMessage(command.application_id, command.token, '@original'), { body: { content: followUpText(outcome) }, auth: false })
          .catch((e: unknown) => deps.log.warn({ reportId, err: errorMessage(e) }, 'Discord follow-up failed'));
      })
      .finally(() => pending.delete(followUp));
    pending.add(followUp);
  });

  return {
    async idle() {
      await Promise.all([...pending]);
    },
  };
}

/** The follow-up that replaces the deferred answer: the report id, a refusal, or "try again". */
function followUpText(outcome: { reportId: string } | { e: unknown }): string {
  if ('reportId' in outcome) return `Received: report ${outcome.reportId}. We will post in this channel when there is news.`;
  if (isUserzError(outcome.e) && outcome.e.status < 500) return chatMessageFor(outcome.e);
  return 'Sorry, the report could not be stored. Please try again in a minute.';
}

/** The interaction, or 400 `invalid_payload` (logged by interaction id) when it lacks Discord's documented shape. */
function parseInteraction(value: unknown, log: IntakeDeps['log']): DiscordInteraction {
  const parsed = DiscordInteraction.safeParse(value);
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0];
  const id = (value as { id?: unknown } | null)?.id;
  log.warn(
    { interactionId: typeof id === 'string' ? id.slice(0, 25) : undefined, issue: first ? `${first.path.join('.') || 'body'}: ${first.code}` : undefined },
    'Discord interaction refused: payload does not match the documented shape',
  );
  throw new UserzError('invalid_payload', 'The interaction does not have the documented shape');
}

/** `/userz report text:<…>`: the `report` subcommand's `text` option (or a top-level `text`). */
function readReportText(command: APIChatInputApplicationCommandInteraction): string | undefined {
  type Option = { name: string; type: number; value?: unknown; options?: Option[] };
  const options = (command.data.options ?? []) as Option[];
  const sub = options.find((o) => o.name === 'report');
  const text = (sub?.options ?? options).find((o) => o.name === 'text');
  return typeof text?.value === 'string' ? text.value : undefined;
}
