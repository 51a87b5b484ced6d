import type { IncomingMessage, ServerResponse } from 'node:http';
import { App as BoltApp, HTTPReceiver, LogLevel, type Logger as BoltLogger, type SlashCommand } from '@slack/bolt';
import type { Logger } from 'pino';
import { errorMessage, isUserzError, type UserzError } from '../../errors.js';
import type { Router } from '../../http/index.js';
import { ReplayGuard, SIGNED_REQUEST_REPLAY_TTL_MS } from '../../security/index.js';
import { acceptReport } from '../accept.js';
import type { AppDirectory } from '../app-directory.js';
import { DEFAULT_CHAT_ACK_MS, FollowUps, raceDeadline } from '../chat-deadline.js';
import type { IntakeDeps } from '../deps.js';
import type { IntakeLimiter } from '../rate-limits.js';
import { enforceTextLimit } from '../report-input.js';
import { answerSlackLink, notConnectedText, readSlackLinkCode } from './link.js';
import { admitSlackRequest } from './request-gate.js';

/**
 * `/userz <text>` through Bolt's HTTPReceiver mounted on our router at POST /slack/events.
 * admitSlackRequest (request-gate.ts) checks the 300 s window both ways and the v0 signature
 * (HMAC-SHA256 of `v0:{ts}:{body}`, constant-time) before Bolt sees anything; we add the
 * replay guard keyed on the signature (unique per timestamp and body) and acknowledge with
 * an ephemeral message.
 */
export function registerSlackCommandRoutes(router: Router, deps: IntakeDeps, limiter: IntakeLimiter, apps: AppDirectory): { idle(): Promise<void> } {
  const slack = deps.config.slack;
  const followUps = new FollowUps();
  if (!slack) return followUps;
  const replay = new ReplayGuard(deps.cache, SIGNED_REQUEST_REPLAY_TTL_MS);
  const receiver = new HTTPReceiver({
    signingSecret: slack.signingSecret,
    // admitSlackRequest (request-gate.ts) verified the signature and hands Bolt only the
    // re-encoded fields of a slash command that passed the schema.
    signatureVerification: false,
    endpoints: '/slack/events',
    processBeforeResponse: true,
    logger: boltLogger(deps.log),
    customPropertiesExtractor: (req) => ({ slackSignature: String(req.headers['x-slack-signature'] ?? '') }),
    // Backstop behind the deadline below: a well-formed "try again" instead of Bolt's 404.
    unhandledRequestHandler: ({ response }) => {
      if (!response.headersSent)
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ response_type: 'ephemeral', text: BUSY_TEXT }));
    },
  });
  // `authorize` with fixed bot ids keeps Bolt from calling auth.test at start: acking a
  // command needs no token; posting the outcome later uses the workspace's stored token.
  // convoStore false: Userz keeps no conversation state, and Bolt's default memory store
  // is a middleware (with its own timer map) on every request; it showed in the profile.
  const bolt = new BoltApp({ receiver, authorize: async () => ({ botId: 'userz', botUserId: 'userz' }), logger: boltLogger(deps.log), convoStore: false });

  // Slack shows a failure when the ack comes after 3 s, but the store keeps going: answer
  // within the deadline, and when the store is late say so and send its outcome after.
  bolt.command(/^\/userz/, async ({ command, ack, context }) => {
    const answer = answerCommand(command, String(context.slackSignature)).catch((e: unknown) => {
      deps.log.error({ err: errorMessage(e) }, 'Slack command failed');
      return NOT_STORED_TEXT;
    });
    const first = await raceDeadline(answer, deps.chatAckMs ?? DEFAULT_CHAT_ACK_MS);
    if (first.done) return ack({ response_type: 'ephemeral', text: first.value });
    await ack({ response_type: 'ephemeral', text: LATE_TEXT });
    followUps.track(answer.then((text) => postToResponseUrl(deps, command.response_url, text)));
  });

  const answerCommand = async (command: SlashCommand, signature: string): Promise<string> => {
    const ephemeral = (text: string) => text;
    // Bolt verified the signature before this runs, so recording it cannot be poisoned.
    if (!(await replay.firstSighting('slack', signature))) return ephemeral('This request was already received.');
    const text = command.text.trim();
    if (!text) return ephemeral('Usage: /userz <what went wrong>');
    const linkCode = readSlackLinkCode(text);
    if (linkCode !== undefined) return ephemeral(await answerSlackLink(deps, apps, command, linkCode));
    const app = await apps.bySlackTeam(command.team_id);
    if (!app) {
      return ephemeral(notConnectedText(deps));
    }
    try {
      enforceTextLimit(text);
      await limiter.checkAppAndIp(app.id, null);
      await limiter.checkReporter(app.id, `slack:${command.user_id}`);
      const { report } = await acceptReport(deps, {
        app,
        source: 'slack',
        content: { text, reporter: { slackUserId: command.user_id, slackUserName: command.user_name, slackTeamId: command.team_id } },
        replyTo: { kind: 'slack', teamId: command.team_id, channelId: command.channel_id, userId: command.user_id },
        reporterKey: `slack:${command.user_id}`,
        actor: 'slack',
      });
      deps.log.info({ reportId: report.id, appId: app.id, teamId: command.team_id }, 'Slack report received');
      return ephemeral(`Received: report ${report.id}. We will post in this channel when there is news.`);
    } catch (e) {
      deps.metrics?.reportRefused('slack', refusalCode(e));
      if (isUserzError(e) && e.status < 500) return ephemeral(chatMessageFor(e));
      deps.log.error({ appId: app.id, err: errorMessage(e) }, 'Slack report could not be stored');
      return ephemeral(NOT_STORED_TEXT);
    }
  };

  const listener = receiver.requestListener;
  router.add('POST', '/slack/events', async (req: IncomingMessage, res: ServerResponse) => {
    if (!(await admitSlackRequest(req, res, { signingSecret: slack.signingSecret, log: deps.log }))) return;
    await new Promise<void>((resolve) => {
      res.once('finish', resolve);
      res.once('close', resolve);
      listener(req, res);
    });
  });
  return followUps;
}

const NOT_STORED_TEXT = 'Sorry, the report could not be stored. Please try again in a minute.';
const LATE_TEXT = 'Received. We are still storing your report and will confirm it here in a moment.';
const BUSY_TEXT = 'Userz is busy right now; if no confirmation follows in a minute, please try again.';

/** Slack: a command's response_url takes up to 5 ephemeral messages for 30 minutes, no token needed. */
async function postToResponseUrl(deps: IntakeDeps, responseUrl: string, text: string): Promise<void> {
  let url: URL;
  try {
    url = new URL(responseUrl);
  } catch {
    deps.log.warn('Slack follow-up skipped: the command has no usable response_url');
    return;
  }
  if (url.protocol !== 'https:' || url.hostname !== 'hooks.slack.com') {
    deps.log.warn({ host: url.hostname }, 'Slack follow-up skipped: response_url is not on hooks.slack.com');
    return;
  }
  try {
    const res = await (deps.notifierFetch ?? fetch)(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ response_type: 'ephemeral', text }),
    });
    if (!res.ok) deps.log.warn({ status: res.status }, 'Slack follow-up refused');
  } catch (e) {
    deps.log.warn({ err: errorMessage(e) }, 'Slack follow-up failed');
  }
}

/** The error code a chat refusal is counted under: the refusal's own, `internal_error` for a failure of ours. */
export function refusalCode(e: unknown): string {
  return isUserzError(e) && e.status < 500 ? e.code : 'internal_error';
}

/** A user-facing sentence for a refusal in chat (limits, rate limits). */
export function chatMessageFor(e: UserzError): string {
  if (e.code === 'rate_limited') return `Too many reports right now; please try again in ${String(e.details?.retryAfterSeconds ?? 60)} s.`;
  return e.message;
}

function boltLogger(log: Logger): BoltLogger {
  const child = log.child({ component: 'slack-bolt' });
  let level = LogLevel.WARN;
  return {
    debug: () => undefined,
    info: () => undefined,
    warn: (...m: unknown[]) => child.warn({ detail: m.map(String).join(' ').slice(0, 300) }, 'Slack Bolt warning'),
    error: (...m: unknown[]) => child.error({ detail: m.map(String).join(' ').slice(0, 300) }, 'Slack Bolt error'),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
