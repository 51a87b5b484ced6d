import type { IncomingMessage } from 'node:http';
import { UserzError } from '../errors.js';
import { assertJsonDepth } from './json-depth.js';
import { normaliseJsonText } from './storable-text.js';

/**
 * Reads a request body up to `limit` bytes. Stops reading at the cap (the rest is never
 * buffered) and answers 413 `body_too_large`. A declared Content-Length over the cap is
 * refused before reading anything.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    discardRest(req);
    throw tooLarge(limit);
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        discardRest(req);
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/**
 * Past the cap nothing more is kept, but the socket is not torn down at once: a reset
 * would make the client's kernel drop our 413 before it is read (the client is usually
 * still writing). The rest is read and thrown away, then the connection is closed
 * (lingering close, as nginx does): after 5 s without data from the client, or after
 * 30 s in all, whichever comes first. A fixed 5 s from the refusal was too short for a
 * client still writing 8 MB on a loaded machine (its write failed with EPIPE and it
 * never saw the 413).
 */
function discardRest(req: IncomingMessage, lingerMs = { idle: 5_000, total: 30_000 }): void {
  const close = () => req.socket.destroy();
  let idle = setTimeout(close, lingerMs.idle);
  const total = setTimeout(close, lingerMs.total);
  idle.unref();
  total.unref();
  const stop = () => {
    clearTimeout(idle);
    clearTimeout(total);
  };
  req.on('data', () => {
    clearTimeout(idle);
    idle = setTimeout(close, lingerMs.idle);
    idle.unref();
  });
  req.resume();
  // Node's server ends a `Connection: close` exchange with socket.destroySoon(), a full
  // close while the client may still be sending: that is the reset this avoids. Send our
  // FIN only, keep reading, and let the timers above close for good.
  const socket = req.socket as typeof req.socket & { destroySoon?: () => void };
  socket.destroySoon = () => {
    socket.end();
  };
  // A keep-alive socket outlives this request: take our listener off it when the body ends.
  req.once('end', () => {
    stop();
    req.socket.off('close', stop);
  });
  req.socket.once('close', stop);
}

function tooLarge(limit: number): UserzError {
  return new UserzError('body_too_large', `Request body is larger than ${limit} bytes`);
}

/**
 * Parses JSON from a body, answering 400 `malformed_json` on failure and `json_too_deep`
 * past 64 levels (checked on the bytes, before parsing). Strings and keys come back
 * storable (no NUL, no lone surrogate), the same for every channel.
 */
export function parseJson(body: Buffer | string): unknown {
  assertJsonDepth(body);
  let value: unknown;
  try {
    value = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    throw new UserzError('malformed_json', 'Request body is not valid JSON');
  }
  return normaliseJsonText(value);
}

export function requireContentType(req: IncomingMessage, ...types: string[]): string {
  const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (!types.includes(ct)) {
    throw new UserzError('unsupported_media_type', `Content-Type must be ${types.join(' or ')}`);
  }
  return ct;
}
