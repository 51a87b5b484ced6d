import type { Queryable } from './db/interface.js';
import { decodeCursor, toPage, type Page, type PageRequest } from './keyset.js';

/**
 * Outgoing webhooks' rows (015_webhooks_billing.sql): an org's endpoints, the delivery jobs
 * an event fans out to, and the delivery log (one row per attempt). Rows in, rows out;
 * signing, sending and the retry schedule stay in webhooks/.
 */
export interface WebhookEndpointRow {
  id: string;
  orgId: string;
  url: string;
  events: string[];
  secretId: string;
  createdBy: string;
  createdAt: Date;
  deletedAt: Date | null;
}

type EndpointRow = {
  id: string;
  org_id: string;
  url: string;
  events: string[];
  secret_id: string;
  created_by: string;
  created_at: Date;
  deleted_at: Date | null;
};

const toEndpoint = (r: EndpointRow): WebhookEndpointRow => ({
  id: r.id,
  orgId: r.org_id,
  url: r.url,
  events: r.events,
  secretId: r.secret_id,
  createdBy: r.created_by,
  createdAt: r.created_at,
  deletedAt: r.deleted_at,
});

const ENDPOINT_COLUMNS = 'id, org_id, url, events, secret_id, created_by, created_at, deleted_at';

export async function insertWebhookEndpoint(
  tx: Queryable,
  row: { id: string; orgId: string; url: string; events: readonly string[]; secretId: string; createdBy: string },
): Promise<WebhookEndpointRow> {
  const [inserted] = await tx.query<EndpointRow>(
    `INSERT INTO webhook_endpoints (id, org_id, url, events, secret_id, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${ENDPOINT_COLUMNS}`,
    [row.id, row.orgId, row.url, [...row.events], row.secretId, row.createdBy],
  );
  return toEndpoint(inserted!);
}

/** The org's live endpoints, newest first. */
export async function listWebhookEndpointRows(db: Queryable, orgId: string, page: PageRequest): Promise<Page<WebhookEndpointRow>> {
  const after = page.cursor ? decodeCursor(page.cursor) : null;
  const rows = await db.query<EndpointRow>(
    `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints
      WHERE org_id = $1 AND deleted_at IS NULL AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3))
      ORDER BY created_at DESC, id DESC LIMIT $4`,
    [orgId, after?.at ?? null, after?.id ?? '', page.limit + 1],
  );
  return toPage(rows.map(toEndpoint), page.limit, (e) => ({ at: e.createdAt, id: e.id }));
}

/** One live endpoint of the org, or null (another org's id is null too). */
export async function findWebhookEndpoint(db: Queryable, orgId: string, id: string): Promise<WebhookEndpointRow | null> {
  const [row] = await db.query<EndpointRow>(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1 AND org_id = $2 AND deleted_at IS NULL`, [
    id,
    orgId,
  ]);
  return row ? toEndpoint(row) : null;
}

/** An endpoint by id, deleted ones included (a delivery job finds out that its endpoint is gone). */
export async function getWebhookEndpointRow(db: Queryable, id: string): Promise<WebhookEndpointRow | null> {
  const [row] = await db.query<EndpointRow>(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1`, [id]);
  return row ? toEndpoint(row) : null;
}

/** Marks the org's endpoint deleted; false when it has no such live endpoint. */
export async function markWebhookEndpointDeleted(db: Queryable, orgId: string, id: string): Promise<boolean> {
  const rows = await db.query('UPDATE webhook_endpoints SET deleted_at = now() WHERE id = $1 AND org_id = $2 AND deleted_at IS NULL RETURNING 1', [id, orgId]);
  return rows.length === 1;
}

/**
 * The (org, event type) pairs some live endpoint subscribes to, for the given orgs: one
 * cheap indexed read that lets an event nobody listens to cost nothing more (most orgs
 * have no endpoint, and intake's group commit emits for every report).
 */
export async function listWebhookSubscriptions(tx: Queryable, orgIds: readonly string[]): Promise<Array<{ orgId: string; type: string }>> {
  const rows = await tx.query<{ org_id: string; type: string }>(
    'SELECT DISTINCT org_id, unnest(events) AS type FROM webhook_endpoints WHERE org_id = ANY($1::text[]) AND deleted_at IS NULL',
    [[...new Set(orgIds)]],
  );
  return rows.map((r) => ({ orgId: r.org_id, type: r.type }));
}

/** An event as it is queued: the body is the exact bytes every attempt sends (and signs). */
export interface WebhookEventRow {
  orgId: string;
  eventId: string;
  type: string;
  /** Unix seconds. */
  created: number;
  body: string;
}

/**
 * One `webhook` job per (event, live endpoint of the event's org subscribed to its type),
 * in one statement whatever the number of events, in the caller's transaction: an event
 * is queued exactly when its cause commits. The delivery id is derived from the event and
 * the endpoint, so it is the same on every retry and never shared by two deliveries.
 */
export async function enqueueWebhookDeliveries(tx: Queryable, events: readonly WebhookEventRow[], maxAttempts: number): Promise<void> {
  if (events.length === 0) return;
  await tx.query(
    `WITH input AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS t(org_id text, event_id text, type text, created bigint, body text))
     INSERT INTO jobs (kind, key, payload, run_at, max_attempts)
     SELECT 'webhook', 'webhook:' || i.event_id || ':' || e.id,
            jsonb_build_object('deliveryId', 'dlv_' || substr(md5(i.event_id || ':' || e.id), 1, 24), 'endpointId', e.id, 'orgId', e.org_id,
                               'eventId', i.event_id, 'type', i.type, 'created', i.created, 'body', i.body),
            now(), $2
       FROM input i JOIN webhook_endpoints e ON e.org_id = i.org_id AND e.deleted_at IS NULL AND i.type = ANY(e.events)
     ON CONFLICT (key) DO NOTHING`,
    [JSON.stringify(events.map((e) => ({ org_id: e.orgId, event_id: e.eventId, type: e.type, created: e.created, body: e.body }))), maxAttempts],
  );
}

export interface WebhookAttemptRow {
  id: number;
  orgId: string;
  endpointId: string;
  deliveryId: string;
  eventId: string;
  eventType: string;
  attempt: number;
  statusCode: number | null;
  error: string | null;
  delivered: boolean;
  final: boolean;
  createdAt: Date;
}

type AttemptRow = {
  id: number | string;
  org_id: string;
  endpoint_id: string;
  delivery_id: string;
  event_id: string;
  event_type: string;
  attempt: number;
  status_code: number | null;
  error: string | null;
  delivered: boolean;
  final: boolean;
  created_at: Date;
};

const toAttempt = (r: AttemptRow): WebhookAttemptRow => ({
  id: Number(r.id),
  orgId: r.org_id,
  endpointId: r.endpoint_id,
  deliveryId: r.delivery_id,
  eventId: r.event_id,
  eventType: r.event_type,
  attempt: r.attempt,
  statusCode: r.status_code,
  error: r.error,
  delivered: r.delivered,
  final: r.final,
  createdAt: r.created_at,
});

export async function insertWebhookAttempt(tx: Queryable, row: Omit<WebhookAttemptRow, 'id' | 'createdAt'>): Promise<void> {
  await tx.query(
    `INSERT INTO webhook_attempts (org_id, endpoint_id, delivery_id, event_id, event_type, attempt, status_code, error, delivered, final)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      row.orgId,
      row.endpointId,
      row.deliveryId,
      row.eventId,
      row.eventType,
      row.attempt,
      row.statusCode,
      row.error === null ? null : row.error.slice(0, 500),
      row.delivered,
      row.final,
    ],
  );
}

/** The delivery log of one endpoint of the org, newest attempt first. */
export async function listWebhookAttempts(db: Queryable, orgId: string, endpointId: string, page: PageRequest): Promise<Page<WebhookAttemptRow>> {
  const after = page.cursor ? decodeCursor(page.cursor) : null;
  const afterId = after ? Number(after.id) : 0;
  const rows = await db.query<AttemptRow>(
    `SELECT id, org_id, endpoint_id, delivery_id, event_id, event_type, attempt, status_code, error, delivered, final, created_at
       FROM webhook_attempts
      WHERE endpoint_id = $1 AND org_id = $2 AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4))
      ORDER BY created_at DESC, id DESC LIMIT $5`,
    [endpointId, orgId, after?.at ?? null, Number.isSafeInteger(afterId) ? afterId : 0, page.limit + 1],
  );
  return toPage(rows.map(toAttempt), page.limit, (a) => ({ at: a.createdAt, id: a.id }));
}

/**
 * Records a Stripe event as applied, unless it already was: null means a redelivery, and
 * the caller changes nothing (in the same transaction as the effect). An org id that names
 * no org is stored as null with outcome `org_unknown`; the answer says whether the org exists.
 */
export async function recordStripeEvent(
  tx: Queryable,
  row: { eventId: string; type: string; orgId: string | null; created: number; outcome: string },
): Promise<{ orgExists: boolean } | null> {
  const rows = await tx.query<{ org_id: string | null }>(
    `WITH org AS (SELECT id FROM orgs WHERE id = $3)
     INSERT INTO stripe_events (event_id, type, org_id, created, outcome)
     VALUES ($1, $2, (SELECT id FROM org), $4, CASE WHEN $3::text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM org) THEN 'org_unknown' ELSE $5 END)
     ON CONFLICT (event_id) DO NOTHING RETURNING org_id`,
    [row.eventId, row.type, row.orgId, row.created, row.outcome],
  );
  if (rows.length === 0) return null;
  return { orgExists: rows[0]!.org_id !== null };
}

/**
 * The newest `created` of a Stripe event that set this org's plan, or null. Call it in the
 * event's transaction: it first takes the org's Stripe lock until that transaction ends, so
 * two events of one org are decided one after the other (otherwise both read "no newer
 * event", and the older one, committing last, would undo the newer plan).
 */
export async function latestStripePlanEvent(db: Queryable, orgId: string): Promise<number | null> {
  await db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`userz:stripe:${orgId}`]);
  const [row] = await db.query<{ c: string | number | null }>("SELECT max(created) AS c FROM stripe_events WHERE org_id = $1 AND outcome = 'plan_set'", [
    orgId,
  ]);
  return row && row.c !== null ? Number(row.c) : null;
}
