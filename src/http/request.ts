import type { IncomingMessage } from 'node:http';

/**
 * The credential of an `Authorization: Bearer <token>` header, exactly as sent after the
 * scheme (a verifier that wants it trimmed trims it); undefined when the header is absent,
 * uses another scheme, or carries no token.
 */
export function bearerToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  return h !== undefined && h.startsWith('Bearer ') && h.length > 'Bearer '.length ? h.slice('Bearer '.length) : undefined;
}

/**
 * The caller's address; X-Forwarded-For only when the deployment says a trusted proxy sets
 * it. Then the LAST entry counts: a proxy appends the address it saw, while every entry
 * before it is whatever the client chose to send (taking the first would let any caller
 * pick a fresh address per request and walk past every per-address limit).
 */
export function clientIp(req: IncomingMessage, trustProxy = false): string | null {
  if (trustProxy) {
    const xff = req.headers['x-forwarded-for'];
    const last = (Array.isArray(xff) ? xff.join(',') : xff)?.split(',').at(-1)?.trim();
    if (last) return last;
  }
  return req.socket.remoteAddress ?? null;
}
