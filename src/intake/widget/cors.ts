import type { IncomingMessage, ServerResponse } from 'node:http';

export const CORS_ALLOWED_HEADERS = 'content-type, x-userz-key, x-userz-user-token, x-userz-status-token, idempotency-key';

/**
 * CORS for one allowed origin: echo that origin (never `*`), vary on it, and send no
 * Allow-Credentials: the widget authenticates with headers, not cookies.
 */
export function allowOrigin(res: ServerResponse, origin: string): void {
  res.setHeader('access-control-allow-origin', origin);
  res.setHeader('vary', 'Origin');
  res.setHeader('access-control-expose-headers', 'retry-after');
}

export function answerPreflight(res: ServerResponse, origin: string, methods: string): void {
  allowOrigin(res, origin);
  res.writeHead(204, {
    'access-control-allow-methods': methods,
    'access-control-allow-headers': CORS_ALLOWED_HEADERS,
    'access-control-max-age': '600',
  });
  res.end();
}

export function originOf(req: IncomingMessage): string | null {
  const o = req.headers.origin;
  return typeof o === 'string' && o !== 'null' && o.length > 0 ? o : null;
}
