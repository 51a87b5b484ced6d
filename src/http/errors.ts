import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { errorMessage, isUserzError } from '../errors.js';
import { codeToStatus } from './status.js';

/**
 * The one place errors become HTTP answers: `{ "error": { "code", "message" } }` with the
 * status the code → status table gives the code (./status.ts). Anything that is not a
 * UserzError is a bug: 500 `internal_error`, with a generic message (the log gets the
 * message, never the request body).
 */
export function sendError(res: ServerResponse, err: unknown, log?: Logger): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (isUserzError(err)) {
    const headers: Record<string, string> = {};
    const retryAfter = err.details?.retryAfterSeconds;
    if (typeof retryAfter === 'number') headers['retry-after'] = String(retryAfter);
    const status = codeToStatus(err.code);
    if (status >= 500) log?.error({ code: err.code, err: errorMessage(err) }, 'Request failed');
    sendJson(res, status, { error: { code: err.code, message: err.message } }, headers);
    return;
  }
  log?.error({ err: errorMessage(err) }, 'Unexpected error while handling a request');
  sendJson(res, codeToStatus('internal_error'), { error: { code: 'internal_error', message: 'Something went wrong on our side' } });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
  if (typeof code === 'string') ERROR_CODES.set(res, code);
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

const ERROR_CODES = new WeakMap<ServerResponse, string>();

/** The error code of the `{ "error": { "code" } }` answer sent on this response, if it was one. */
export function responseErrorCode(res: ServerResponse): string | undefined {
  return ERROR_CODES.get(res);
}
