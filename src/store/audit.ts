import { UserzError } from '../errors.js';
import type { Queryable } from './db/interface.js';
import { decodeCursor, toPage, type Page, type PageRequest } from './keyset.js';

/**
 * Append-only audit log: who did what to which id, when. `data` carries ids and small
 * facts only (never secrets, tokens or report text); callers pass only such fields.
 */
export interface AuditEvent {
  actor: string;
  action: string;
  orgId?: string | null;
  subject?: string | null;
  data?: Record<string, string | number | boolean | null | string[]>;
}

export async function recordAudit(db: Queryable, event: AuditEvent): Promise<void> {
  await db.query('INSERT INTO audit_events (actor, action, org_id, subject, data) VALUES ($1, $2, $3, $4, $5)', [
    event.actor,
    event.action,
    event.orgId ?? null,
    event.subject ?? null,
    JSON.stringify(event.data ?? {}),
  ]);
}

export interface StoredAuditEvent extends Required<Omit<AuditEvent, 'data'>> {
  id: number;
  at: Date;
  data: Record<string, unknown>;
}

type AuditRow = { id: number; at: Date; actor: string; action: string; org_id: string | null; subject: string | null; data: Record<string, unknown> };

function toStoredEvent(r: AuditRow): StoredAuditEvent {
  return { id: Number(r.id), at: r.at, actor: r.actor, action: r.action, orgId: r.org_id, subject: r.subject, data: r.data };
}

export async function listAudit(db: Queryable, filter: { subject?: string; orgId?: string; action?: string } = {}): Promise<StoredAuditEvent[]> {
  const rows = await db.query<AuditRow>(
    `SELECT id, at, actor, action, org_id, subject, data FROM audit_events
      WHERE ($1::text IS NULL OR subject = $1) AND ($2::text IS NULL OR org_id = $2) AND ($3::text IS NULL OR action = $3)
      ORDER BY id`,
    [filter.subject ?? null, filter.orgId ?? null, filter.action ?? null],
  );
  return rows.map(toStoredEvent);
}

/** What the audit log page and `GET /api/v1/audit-events` filter by; each absent field matches everything. */
export interface AuditFilter {
  /** Exactly this actor (`user:…`, `api_key:…`, `cli`, `system`). */
  actor?: string;
  /** Exactly this action, or every action under a prefix given as `app.*`. */
  action?: string;
  subject?: string;
  /** Inclusive lower bound on `at`. */
  from?: Date;
  /** Exclusive upper bound on `at`. */
  to?: Date;
}

/** An audit id as Postgres' bigint holds it: 19 digits can still be past its largest value (a 500, not a 404). */
const isAuditId = (s: string): boolean => /^\d{1,19}$/.test(s) && BigInt(s) <= 9223372036854775807n;

/**
 * One org's audit events, newest first, a keyset page at a time. The ids are a sequence, so
 * id order is the order the log was written in, and audit_events_org_idx (org_id, id) serves
 * every page at the same cost; the cursor still carries the (at, id) pair every list gives out.
 */
export async function listAuditEvents(db: Queryable, orgId: string, filter: AuditFilter, page: PageRequest): Promise<Page<StoredAuditEvent>> {
  const before = page.cursor ? decodeCursor(page.cursor).id : null;
  if (before !== null && !isAuditId(before)) throw new UserzError('invalid_payload', 'cursor is not one this API gave out');
  const action = filter.action ?? null;
  const prefix = action?.endsWith('.*') ? `${action.slice(0, -1).replace(/[\\%_]/g, '\\$&')}%` : null;
  const rows = await db.query<AuditRow>(
    `SELECT id, at, actor, action, org_id, subject, data FROM audit_events
      WHERE org_id = $1
        AND ($2::bigint IS NULL OR id < $2)
        AND ($3::text IS NULL OR actor = $3)
        AND ($4::text IS NULL OR action = $4)
        AND ($5::text IS NULL OR action LIKE $5)
        AND ($6::text IS NULL OR subject = $6)
        AND ($7::timestamptz IS NULL OR at >= $7)
        AND ($8::timestamptz IS NULL OR at < $8)
      ORDER BY id DESC
      LIMIT $9`,
    [
      orgId,
      before,
      filter.actor ?? null,
      prefix ? null : action,
      prefix,
      filter.subject ?? null,
      filter.from?.toISOString() ?? null,
      filter.to?.toISOString() ?? null,
      page.limit + 1,
    ],
  );
  return toPage(rows.map(toStoredEvent), page.limit, (e) => ({ at: e.at, id: e.id }));
}

/** One event of the org's audit log by its id, or null (another org's event too). */
export async function getAuditEvent(db: Queryable, orgId: string, id: string): Promise<StoredAuditEvent | null> {
  if (!isAuditId(id)) return null;
  const [row] = await db.query<AuditRow>('SELECT id, at, actor, action, org_id, subject, data FROM audit_events WHERE id = $1 AND org_id = $2', [id, orgId]);
  return row ? toStoredEvent(row) : null;
}
