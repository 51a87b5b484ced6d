import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

/**
 * Paths pino censors wherever they appear in a log object. Log calls carry ids, never
 * secrets or report bodies; this list is the second line of defence for objects that
 * reach a log by accident (an error with a request attached, a config dump).
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-userz-key"]',
  'req.headers["x-userz-user-token"]',
  'req.headers["x-gitlab-token"]',
  'req.headers["x-hub-signature-256"]',
  'req.headers["x-slack-signature"]',
  'req.headers["x-signature-ed25519"]',
  'headers.authorization',
  'headers["x-gitlab-token"]',
  '*.token',
  '*.accessToken',
  '*.apiKey',
  '*.privateKey',
  '*.secret',
  '*.password',
  '*.botToken',
  '*.key',
  'token',
  'apiKey',
  'privateKey',
  'secret',
  'text',
  '*.text',
  'body',
  '*.body',
  'content',
  '*.content',
];

/**
 * JSON lines for machines; when `pretty` (default: stdout is a terminal, so `npm start` on a
 * laptop) one readable line per entry instead. Redaction and serializers run before either
 * format, so a pretty line censors exactly what a JSON line does.
 */
export function createLogger(opts: { level?: string; destination?: DestinationStream; pretty?: boolean } = {}): Logger {
  const usePretty = opts.pretty ?? (opts.destination === undefined && process.stdout.isTTY === true);
  const destination = usePretty
    ? pretty({
        destination: opts.destination ?? 1,
        sync: true,
        colorize: opts.destination === undefined && process.stdout.isTTY === true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname',
        singleLine: true,
      })
    : (opts.destination ?? pino.destination(1));
  return pino(
    {
      level: opts.level ?? 'info',
      name: 'userz',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: { err: serializeError, event: serializeEvent },
    },
    destination,
  );
}

/**
 * Probot and @octokit/webhooks attach the webhook event, with its full unverified payload,
 * to errors (bad signature, handler failure) and log them. A payload may carry report text
 * or anything a forger put in it, so only the event's id and name are kept.
 */
function serializeEvent(event: unknown): unknown {
  if (event instanceof Error) return serializeError(event);
  if (event && typeof event === 'object') {
    const { id, name } = event as { id?: unknown; name?: unknown };
    return { id, name };
  }
  return event;
}

function serializeError(err: unknown): unknown {
  const s = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
  if (!s || typeof s !== 'object') return s;
  const out: Record<string, unknown> = { ...s };
  if ('event' in out) out.event = serializeEvent((err as { event?: unknown }).event);
  if (Array.isArray((err as { errors?: unknown[] }).errors)) {
    out.aggregateErrors = (err as { errors: unknown[] }).errors.map(serializeError);
  }
  for (const key of ['request', 'response', 'headers', 'config']) delete out[key];
  return out;
}
