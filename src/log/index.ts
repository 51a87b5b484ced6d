import type { IncomingMessage, ServerResponse } from 'node:http';
import pino, { type DestinationStream, type Logger } from 'pino';

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

export function createLogger(opts: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      name: 'userz',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err },
    },
    opts.destination ?? pino.destination(1),
  );
}

/**
 * Options for Probot's pino-http request logger: method, path without query string
 * (OAuth codes and tokens travel in queries), status and time. No headers at all.
 */
export const httpLoggingOptions = {
  serializers: {
    req: (req: IncomingMessage & { id?: unknown }) => ({ id: req.id, method: req.method, path: (req.url ?? '').split('?')[0] }),
    res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
  },
  customSuccessMessage: (req: IncomingMessage, res: ServerResponse) => `${req.method} ${(req.url ?? '').split('?')[0]} ${res.statusCode}`,
  customErrorMessage: (req: IncomingMessage, res: ServerResponse) => `${req.method} ${(req.url ?? '').split('?')[0]} ${res.statusCode}`,
};
