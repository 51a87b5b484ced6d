import { decodeCursor, type PageRequest } from './keyset.js';

/**
 * The keyset condition of the /api/v1 lists, newest first by (created_at, id): rows after
 * the cursor's row. A cursor carries a JavaScript time (milliseconds) while Postgres keeps
 * microseconds, so comparing with the cursor's time alone would skip rows created within
 * the same millisecond as the page's last row. The row's own stored time is used instead
 * (one primary-key lookup); the cursor's time only stands in when that row is gone.
 *
 * `$n` is the cursor's id (null: first page) and `$n+1` its time; `cursorParams` gives both.
 */
export function afterCursor(table: string, n: number, alias?: string): string {
  const col = alias ? `${alias}.` : '';
  return `($${n}::text IS NULL OR (${col}created_at, ${col}id) < (COALESCE((SELECT c.created_at FROM ${table} c WHERE c.id = $${n}), $${n + 1}::timestamptz), $${n}))`;
}

export function cursorParams(page: PageRequest): [string | null, string | null] {
  const after = page.cursor ? decodeCursor(page.cursor) : null;
  return [after?.id ?? null, after?.at.toISOString() ?? null];
}
