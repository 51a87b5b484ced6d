import { UserzError } from '../errors.js';

/** Deepest nesting of arrays and objects any JSON body may have (RFC 8259 lets us choose). */
export const MAX_JSON_DEPTH = 64;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Scans the raw bytes once, before JSON.parse, and refuses nesting deeper than `max`
 * (400 `json_too_deep`). JSON.parse itself copes with deep input, but everything after it
 * that walks the value recursively (JSON.stringify of a Slack challenge, zod, our own
 * text normalisation) would overflow the stack. Brackets inside strings do not count.
 */
export function assertJsonDepth(body: Uint8Array | string, max = MAX_JSON_DEPTH): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) throw new UserzError('json_too_deep', `JSON is nested deeper than ${max} levels`);
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
}
