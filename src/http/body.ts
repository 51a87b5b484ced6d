import type { IncomingMessage } from 'node:http';
import { UserzError } from '../errors.js';

/**
 * Reads a request body up to `limit` bytes. Stops reading at the cap (the rest is never
 * buffered) and answers 413 `body_too_large`. A declared Content-Length over the cap is
 * refused before reading anything.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw tooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.unpipe();
      req.resume(); // drain without keeping anything, so the socket can answer
      throw tooLarge(limit);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size);
}

function tooLarge(limit: number): UserzError {
  return new UserzError('body_too_large', `Request body is larger than ${limit} bytes`, { status: 413 });
}

/** Parses JSON from a body, answering 400 `malformed_json` on failure. */
export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new UserzError('malformed_json', 'Request body is not valid JSON', { status: 400 });
  }
}

export function requireContentType(req: IncomingMessage, ...types: string[]): string {
  const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (!types.includes(ct)) {
    throw new UserzError('unsupported_media_type', `Content-Type must be ${types.join(' or ')}`, { status: 415 });
  }
  return ct;
}
