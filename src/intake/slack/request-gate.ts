import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseForm, stringify as stringifyForm } from 'node:querystring';
import { isValidSlackRequest } from '@slack/bolt';
import type { Logger } from 'pino';
import { z } from 'zod';
import { UserzError } from '../../errors.js';
import { parseJson, readBody, sendJson } from '../../http/index.js';
import { toStorableText } from '../../http/index.js';
import { rejectOutsideSlackWindow } from './request-window.js';

/** Slack's requests are small (a command's text is at most a few KB); this bounds the work before the HMAC. */
export const SLACK_BODY_LIMIT = 256 * 1024;

const SlackId = z.string().regex(/^[A-Z0-9]{1,40}$/);
const Text = (max: number) => z.string().max(max).transform(toStorableText);

/**
 * A slash command as Slack documents it (docs.slack.dev/interactivity/implementing-slash-commands):
 * an urlencoded form of single string fields. A repeated field parses as an array and is
 * refused here, so the handler never sees one. Text the database cannot hold is normalised.
 */
export const SlackSlashCommand = z.object({
  token: z.string().max(200).optional(),
  team_id: SlackId,
  team_domain: Text(200).optional(),
  enterprise_id: SlackId.optional(),
  enterprise_name: Text(200).optional(),
  channel_id: SlackId,
  channel_name: Text(200).optional(),
  user_id: SlackId,
  user_name: Text(200).optional(),
  command: z.string().regex(/^\/[a-z0-9_-]{1,32}$/i),
  // Longer than the 8 KB report cap on purpose: the handler answers that cap in chat.
  text: Text(64 * 1024),
  response_url: z.string().max(2_000),
  trigger_id: z.string().max(200).optional(),
  api_app_id: SlackId.optional(),
  is_enterprise_install: z.enum(['true', 'false']).optional(),
});
export type SlackSlashCommand = z.infer<typeof SlackSlashCommand>;

/** The JSON bodies Slack posts to an events URL: objects with a type; only `url_verification` needs an answer from us. */
const SlackJsonBody = z.looseObject({ type: z.string().min(1).max(100) });
const SlackUrlVerification = z.object({ type: z.literal('url_verification'), challenge: z.string().min(1).max(1_000), token: z.string().max(200).optional() });
// Interactive payloads (`payload=<json>`) are objects with a type; Userz does not handle them.
const SlackInteractivePayload = z.looseObject({ type: z.string().min(1).max(100) });

/**
 * Everything a request to POST /slack/events goes through before Bolt sees it: the
 * timestamp within 300 s either way (401, before the body is read), the body read up to a
 * cap (413), the v0 signature (Bolt's own verifier, 401), then the body
 * parsed (depth-bounded JSON, or a form) and checked against Slack's documented shape
 * (400 `invalid_payload`). Only a slash command reaches Bolt, and Bolt receives it
 * re-encoded from the parsed fields, so what it dispatches is exactly what passed here.
 * Returns false when the request was answered here (refused, or acknowledged and ignored).
 */
export async function admitSlackRequest(req: IncomingMessage, res: ServerResponse, deps: { signingSecret: string; log: Logger }): Promise<boolean> {
  rejectOutsideSlackWindow(req.headers['x-slack-request-timestamp']);
  const raw = await readBody(req, SLACK_BODY_LIMIT);
  const text = raw.toString('utf8');
  const form = isForm(req) ? parseForm(text) : null;
  // Slack's ssl_check is unsigned by design; it carries nothing and gets an empty 200.
  if (form?.ssl_check === '1') return acknowledge(res);
  if (!isSigned(req, text, deps.signingSecret)) throw new UserzError('bad_signature', 'Invalid Slack request signature');
  const log = deps.log.child({ slackRequest: String(req.headers['x-slack-signature'] ?? '').slice(3, 19) });

  if (!form) {
    const json = parseJson(text);
    const body = SlackJsonBody.safeParse(json);
    if (!body.success) throw invalidPayload(log, body.error);
    if (body.data.type !== 'url_verification') return acknowledge(res);
    const check = SlackUrlVerification.safeParse(json);
    if (!check.success) throw invalidPayload(log, check.error);
    sendJson(res, 200, { challenge: check.data.challenge });
    return false;
  }
  if ('payload' in form) {
    const payload = typeof form.payload === 'string' ? SlackInteractivePayload.safeParse(parseJson(form.payload)) : null;
    if (!payload?.success) throw invalidPayload(log, payload?.error);
    return acknowledge(res);
  }
  const command = SlackSlashCommand.safeParse(form);
  if (!command.success) throw invalidPayload(log, command.error);
  if (!/^\/userz/i.test(command.data.command)) return acknowledge(res);
  const canonical = Buffer.from(stringifyForm(command.data));
  Object.assign(req, { rawBody: canonical });
  req.headers['content-type'] = 'application/x-www-form-urlencoded';
  req.headers['content-length'] = String(canonical.length);
  return true;
}

function isForm(req: IncomingMessage): boolean {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() === 'application/x-www-form-urlencoded';
}

function isSigned(req: IncomingMessage, body: string, signingSecret: string): boolean {
  const signature = req.headers['x-slack-signature'];
  const timestamp = Number(req.headers['x-slack-request-timestamp']);
  if (typeof signature !== 'string' || !Number.isSafeInteger(timestamp)) return false;
  return isValidSlackRequest({ signingSecret, body, headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp } });
}

function acknowledge(res: ServerResponse): false {
  res.writeHead(200, { 'content-length': '0' }).end();
  return false;
}

function invalidPayload(log: Logger, error: z.ZodError | undefined): UserzError {
  const first = error?.issues[0];
  log.warn(
    { issue: first ? `${first.path.join('.') || 'body'}: ${first.code}` : 'not an object' },
    'Slack request refused: payload does not match the documented shape',
  );
  return new UserzError('invalid_payload', 'The Slack payload does not have the documented shape');
}
