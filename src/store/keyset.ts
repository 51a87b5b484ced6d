import { UserzError } from '../errors.js';

/**
 * Keyset pagination shared by every list (the console's pages and the `/api/v1` lists):
 * newest first by (created_at, id), the cursor an opaque base64url of the last row's pair,
 * so page N costs the same as page 1 with an index on (org_id, created_at DESC, id DESC).
 */
export interface PageRequest {
  cursor?: string | null;
  /** 1..100; callers clamp user input with pageLimit. */
  limit: number;
}

export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export const MAX_PAGE_LIMIT = 100;

export function pageLimit(raw: string | null | undefined, fallback = 50): number {
  if (raw === null || raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_LIMIT) throw new UserzError('invalid_payload', `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
  return n;
}

export function encodeCursor(at: Date, id: string | number): string {
  return Buffer.from(JSON.stringify([at.toISOString(), String(id)])).toString('base64url');
}

/** The (created_at, id) pair a cursor names; 400 `invalid_payload` for anything we did not make. */
export function decodeCursor(cursor: string): { at: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    const date = new Date(String(at));
    if (typeof at !== 'string' || typeof id !== 'string' || Number.isNaN(date.getTime()) || id.length > 200) throw new Error('shape');
    // Every cursor we give out names a row's time; a time Postgres cannot hold (before 4713 BC) would be a 500.
    if (date.getTime() < 0 || date.getUTCFullYear() > 9999) throw new Error('range');
    return { at: date, id };
  } catch {
    throw new UserzError('invalid_payload', 'cursor is not one this API gave out');
  }
}

/** Turns limit+1 fetched rows into a page: the extra row only says there is a next page. */
export function toPage<T>(rows: T[], limit: number, keyOf: (row: T) => { at: Date; id: string | number }): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  if (rows.length <= limit || !last) return { items, nextCursor: null };
  const k = keyOf(last);
  return { items, nextCursor: encodeCursor(k.at, k.id) };
}
