import type { Queryable } from './db/interface.js';

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

export async function listAudit(db: Queryable, filter: { subject?: string; orgId?: string; action?: string } = {}): Promise<StoredAuditEvent[]> {
  const rows = await db.query<{
    id: number;
    at: Date;
    actor: string;
    action: string;
    org_id: string | null;
    subject: string | null;
    data: Record<string, unknown>;
  }>(
    `SELECT id, at, actor, action, org_id, subject, data FROM audit_events
      WHERE ($1::text IS NULL OR subject = $1) AND ($2::text IS NULL OR org_id = $2) AND ($3::text IS NULL OR action = $3)
      ORDER BY id`,
    [filter.subject ?? null, filter.orgId ?? null, filter.action ?? null],
  );
  return rows.map((r) => ({ id: Number(r.id), at: r.at, actor: r.actor, action: r.action, orgId: r.org_id, subject: r.subject, data: r.data }));
}
